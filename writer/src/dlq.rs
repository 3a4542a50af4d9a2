//! The dead-letter topic: records that can never be stored, with where they came from and why.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::batch::Record;
use crate::error::WriterError;

/// Producer to the dead-letter topic.
#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("topic", &self.topic)
            .finish()
    }
}

impl DeadLetters {
    pub fn new(brokers: &str, topic: &str) -> Result<Self, WriterError> {
        Ok(Self {
            producer: chat_core::kafka::durable_producer(brokers).create()?,
            topic: topic.to_owned(),
        })
    }

    /// Sends the original record, its coordinates and the error in headers, and
    /// waits until the broker has it.
    pub async fn send(&self, record: &Record, error: &str) -> Result<(), WriterError> {
        let partition = record.partition.to_string();
        let offset = record.offset.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlq.topic",
                value: Some(record.topic.as_str()),
            })
            .insert(Header {
                key: "dlq.partition",
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: "dlq.offset",
                value: Some(offset.as_str()),
            })
            .insert(Header {
                key: "dlq.error",
                value: Some(error),
            });
        let mut out = FutureRecord::to(&self.topic)
            .payload(record.payload.as_slice())
            .headers(headers);
        if let Some(key) = &record.key {
            out = out.key(key.as_slice());
        }
        self.producer
            .send(out, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| WriterError::Kafka(e))?;
        metrics::counter!(crate::metrics::DLQ_RECORDS).increment(1);
        tracing::warn!(
            kafka.topic = %record.topic,
            kafka.partition = record.partition,
            kafka.offset = record.offset,
            "record sent to the dead-letter topic"
        );
        Ok(())
    }
}
