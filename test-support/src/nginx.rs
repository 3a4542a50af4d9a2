//! The project's nginx config (`nginx/chat.conf.template`, the same file
//! `make up` renders) in front of test gateways: a real `nginx` child process
//! on a free port, with everything it writes in a temporary directory.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../nginx/chat.conf.template");
const NGINX: &str = "/usr/sbin/nginx";
const INDEX_HTML: &str = "<!doctype html>\n<title>chat</title>\n<p>test site</p>\n";

/// A running nginx that stops with this value. Its site is
/// `http://127.0.0.1:PORT/`: static files from a temporary `index.html`, and
/// `/api/`, `/ws`, `/healthz` proxied to the upstream ports.
#[derive(Debug)]
pub struct NginxServer {
    port: u16,
    child: Option<Child>,
    prefix: tempfile::TempDir,
    _site: tempfile::TempDir,
}

impl NginxServer {
    /// Starts nginx in front of one or two gateways on 127.0.0.1 (one port
    /// fills both of the template's upstream servers) and waits until it
    /// accepts connections.
    pub fn start(upstream_ports: &[u16]) -> Self {
        let (first, second) = match *upstream_ports {
            [one] => (one, one),
            [one, two] => (one, two),
            _ => {
                panic!("NginxServer::start takes one or two upstream ports, got {upstream_ports:?}")
            }
        };
        let prefix = temp_dir("chat-nginx-");
        let site = temp_dir("chat-site-");
        let index = site.path().join("index.html");
        fs::write(&index, INDEX_HTML).expect("write index.html");
        // As root the workers run as the template's `user` (www-data): they
        // must be able to enter both directories and read the page.
        fs::set_permissions(&index, fs::Permissions::from_mode(0o644)).expect("chmod index.html");

        let port = crate::free_port();
        let template = fs::read_to_string(TEMPLATE)
            .unwrap_or_else(|e| panic!("cannot read the nginx template {TEMPLATE}: {e}"));
        let config = render(
            &template,
            &[
                ("SITE_PORT", port.to_string()),
                ("GATEWAY_1_PORT", first.to_string()),
                ("GATEWAY_2_PORT", second.to_string()),
                ("SITE_ROOT", site.path().display().to_string()),
            ],
        );
        let conf = prefix.path().join("nginx.conf");
        fs::write(&conf, config).expect("write nginx.conf");

        let child = Command::new(NGINX)
            .arg("-c")
            .arg(&conf)
            // The trailing slash: nginx joins relative paths to the prefix as is.
            .arg("-p")
            .arg(format!("{}/", prefix.path().display()))
            .arg("-e")
            .arg(prefix.path().join("error.log"))
            .args(["-g", "daemon off;"])
            // A group of its own: Drop can reach the workers too.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {NGINX} (scripts/deps.sh installs nginx): {e}"));
        let mut server = Self {
            port,
            child: Some(child),
            prefix,
            _site: site,
        };
        server.wait_until_listening();
        server
    }

    /// The site's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// nginx's error log so far, for a failing test's message.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.prefix.path().join("error.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!("nginx exited at start ({status}):\n{}", self.error_log());
            }
            if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on port {} within 10 s:\n{}",
                self.port,
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for NginxServer {
    /// SIGTERM (nginx's fast shutdown: the master stops its workers, then
    /// itself); SIGKILL to the whole group if that takes more than 5 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let Ok(raw) = i32::try_from(child.id()) else {
            return;
        };
        let pid = Pid::from_raw(raw);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = child.wait();
    }
}

/// The template with each `${NAME}` replaced, as `envsubst` restricted to
/// those names does: nginx's own `$variables` stay.
fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    assert!(
        !out.contains("${"),
        "the nginx template has a placeholder NginxServer does not fill"
    );
    out
}

/// A temporary directory the nginx workers (another user, when we are root)
/// can enter.
fn temp_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir");
    make_enterable(dir.path());
    dir
}

fn make_enterable(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::NginxServer;

    /// A one-request-per-connection HTTP server on a free port that answers
    /// every request with its method, path and the X-Forwarded-For it got.
    fn spawn_responder() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind responder");
        let port = listener.local_addr().expect("responder address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                let mut forwarded_for = String::from("-");
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("x-forwarded-for")
                            {
                                forwarded_for = value.trim().to_owned();
                            }
                        }
                    }
                }
                let mut parts = request_line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
                let body = format!("responder: {method} {path} for {forwarded_for}");
                let _ = write!(
                    reader.get_mut(),
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        port
    }

    /// `GET path` over a fresh connection: (status line, lower-cased head, body).
    fn get(nginx: &NginxServer, path: &str, extra_headers: &str) -> (String, String, String) {
        let mut stream = TcpStream::connect(nginx.addr()).expect("connect to nginx");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra_headers}\r\n"
        )
        .expect("send request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head.lines().next().unwrap_or_default().to_owned();
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    #[test]
    fn healthz_and_the_api_reach_the_gateway_with_the_real_peer_as_forwarded_for() {
        let upstream = spawn_responder();
        let nginx = NginxServer::start(&[upstream]);

        let (status, _, body) = get(&nginx, "/healthz", "X-Forwarded-For: 203.0.113.7\r\n");
        assert_eq!(status, "HTTP/1.1 200 OK", "{}", nginx.error_log());
        assert_eq!(body, "responder: GET /healthz for 127.0.0.1");

        let (status, _, body) = get(&nginx, "/api/rooms?q=x", "");
        assert_eq!(status, "HTTP/1.1 200 OK", "{}", nginx.error_log());
        assert_eq!(body, "responder: GET /api/rooms?q=x for 127.0.0.1");
    }

    #[test]
    fn the_site_is_served_with_its_security_headers_and_stops_on_drop() {
        let nginx = NginxServer::start(&[crate::free_port(), crate::free_port()]);
        let addr = nginx.addr();

        let (status, head, body) = get(&nginx, "/", "");
        assert_eq!(status, "HTTP/1.1 200 OK", "{}", nginx.error_log());
        assert!(body.contains("test site"), "{body}");
        assert!(
            head.contains("\r\ncontent-security-policy: default-src 'self';")
                && head.contains("frame-ancestors 'none'"),
            "{head}"
        );
        assert!(
            head.contains("\r\nx-content-type-options: nosniff"),
            "{head}"
        );
        assert!(head.contains("\r\nreferrer-policy: no-referrer"), "{head}");
        assert!(head.contains("\r\nserver: nginx\r\n"), "no version: {head}");

        // A client-side route falls back to the app.
        let (status, _, body) = get(&nginx, "/rooms/42", "");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(body.contains("test site"), "{body}");

        drop(nginx);
        assert!(
            TcpStream::connect(addr).is_err(),
            "nginx (or a worker) still listens after drop"
        );
    }
}
