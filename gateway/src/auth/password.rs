//! Password hashing with argon2id, off the async threads, in the bounded
//! slots of [`HashSlots`](crate::auth::hashing::HashSlots).

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::auth::hashing::HashSlots;
use crate::error::ApiError;

/// Hashes and verifies passwords with the configured argon2id cost.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    slots: HashSlots,
    /// A real hash to verify against when the user does not exist, so that
    /// "no such user" takes as long as "wrong password".
    dummy_hash: String,
}

impl Passwords {
    pub fn new(memory_kib: u32, iterations: u32, slots: HashSlots) -> Result<Self, ApiError> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| ApiError::Internal(format!("argon2 params: {e}")))?;
        let dummy_hash = hash_with(&params, "not a real password")?;
        Ok(Self {
            params,
            slots,
            dummy_hash,
        })
    }

    /// The PHC string of a new hash of `password`; `Busy` when every slot is taken.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let params = self.params.clone();
        self.slots
            .run(move || hash_with(&params, &password))
            .await?
    }

    /// True when `password` matches `hash`; with `None` it spends the same time
    /// and says false. `Busy` when every slot is taken.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self
            .slots
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(known && ok)
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::default()
}

fn hash_with(params: &Params, password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
}
