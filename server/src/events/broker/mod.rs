//! Split mode's transport: each context's outbox travels through RabbitMQ.
//!
//! - A **relay** per producing context publishes its outbox in order to the durable topic
//!   exchange `<namespace>.events` (routing key: the producer), mandatory, with publisher
//!   confirms (not persistent: the outbox keeps the events, and inboxes ask again for what a
//!   restarted broker lost); it moves its position (`relay_positions`, in the producer's own
//!   database) only after the broker confirmed every message of a batch (and at most every
//!   100 ms), so an unconfirmed or returned message is sent again. Each message carries the producer's sequence number.
//! - An **inbox** per service takes its durable queue `ates.<service>` (single active
//!   consumer, so one process at a time reads it in order) and writes what arrives into
//!   `received`, contiguous per source: a duplicate (sequence number already held) is
//!   dropped, a gap (a number beyond the next) asks the producer's relay to send again from
//!   the first missing one. Messages are acknowledged only after that commit.
//! - The consumers then read `received` through `MirrorLog` exactly as they read an outbox
//!   in embedded mode: in order, idempotently, parking what they cannot apply.
//!
//! A message that is not an event at all (no source or sequence number) is rejected to the
//! dead-letter exchange `ates.dead` (queue `ates.dead`) and never blocks the queue.
//! Both sides reconnect with backoff after the broker or the connection goes away.

pub mod inbox;
pub mod relay;
pub mod wire;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use std::time::Duration;
use tokio::sync::watch;

/// Where a deployment's events travel: its broker and the prefix of every exchange and
/// queue it uses (`ates` unless set), so several deployments, or tests, can share a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub url: String,
    pub namespace: String,
}

impl Broker {
    /// Where events are published, by producer.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.namespace)
    }

    /// Resend requests to a producer's relay, by producer.
    pub fn control_exchange(&self) -> String {
        format!("{}.control", self.namespace)
    }

    /// Where rejected (unreadable) messages go; also the name of the queue keeping them.
    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.namespace)
    }

    pub fn queue_of(&self, service: &str) -> String {
        format!("{}.{service}", self.namespace)
    }

    pub fn relay_queue_of(&self, producer: &str) -> String {
        format!("{}.relay.{producer}", self.namespace)
    }

    /// Every queue of the deployment (for tools and tests that clean up).
    pub fn queues(&self) -> Vec<String> {
        let mut queues: Vec<String> = CONSUMING_SERVICES
            .iter()
            .map(|s| self.queue_of(s))
            .collect();
        queues.extend(PRODUCES.iter().map(|p| self.relay_queue_of(p)));
        queues.push(self.dead_exchange());
        queues
    }
}

/// The contexts whose events each service needs: its consumers' sources, and auth for the
/// users copy every service checks callers against.
pub fn sources_of(service: &str) -> &'static [&'static str] {
    match service {
        "tracker" => &["auth"],
        "accounting" => &["auth", "tracker"],
        "analytics" => &["auth", "tracker", "accounting"],
        _ => &[],
    }
}

/// Every service that consumes, so whoever connects first declares every queue: nothing
/// published before a consumer's first start is lost.
const CONSUMING_SERVICES: [&str; 3] = ["tracker", "accounting", "analytics"];
/// The contexts that publish events (analytics only reads).
pub const PRODUCES: [&str; 3] = ["auth", "tracker", "accounting"];

/// Declares the whole topology (idempotent): exchanges, every service's queue and
/// bindings, the relays' control queues and the dead-letter queue.
pub async fn declare_topology(channel: &Channel, broker: &Broker) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            broker.events_exchange().as_str().into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            broker.control_exchange().as_str().into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            broker.dead_exchange().as_str().into(),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;
    let queue_options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(
            broker.dead_exchange().as_str().into(),
            queue_options,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            broker.dead_exchange().as_str().into(),
            broker.dead_exchange().as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    for service in CONSUMING_SERVICES {
        declare_queue(
            channel,
            broker,
            &broker.queue_of(service),
            sources_of(service),
        )
        .await?;
    }
    for producer in PRODUCES {
        let queue = broker.relay_queue_of(producer);
        channel
            .queue_declare(queue.as_str().into(), queue_options, FieldTable::default())
            .await?;
        channel
            .queue_bind(
                queue.as_str().into(),
                broker.control_exchange().as_str().into(),
                producer.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

/// A consuming service's durable queue, bound to what it consumes; returns how many
/// messages wait in it.
pub async fn declare_queue(
    channel: &Channel,
    broker: &Broker,
    queue: &str,
    sources: &[&str],
) -> lapin::Result<u32> {
    let mut arguments = FieldTable::default();
    // One reader at a time keeps each producer's order; a second process on the same queue
    // waits as a standby and takes over when the first goes away.
    arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(broker.dead_exchange().as_str().into()),
    );
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(queue.into(), options, arguments)
        .await?;
    for source in sources {
        channel
            .queue_bind(
                queue.into(),
                broker.events_exchange().as_str().into(),
                (*source).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(declared.message_count())
}

pub async fn connect(url: &str) -> lapin::Result<Connection> {
    Connection::connect(url, ConnectionProperties::default()).await
}

/// Runs `session` until it ends cleanly or `stop` turns true; after a failure (the broker
/// went away, the connection was cut) waits with backoff, up to 5 s, and starts again.
pub async fn keep_running<F, Fut>(what: &str, mut stop: watch::Receiver<bool>, mut session: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        let started = std::time::Instant::now();
        // A session stuck (a broker that blocks publishers, a connect that hangs) must not
        // hold up shutdown.
        let outcome = tokio::select! {
            outcome = session() => outcome,
            _ = stop.changed() => return,
        };
        match outcome {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%what, error = %format!("{error:#}"), "broker session ended; reconnecting")
            }
        }
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(100);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
