//! The event tables every context database carries, created by its first migration.

/// `outbox`: this context's ordered, append-only log of published events.
/// `consumer_positions` / `inbox`: how far each consumer living in this database has read
/// another context's log, and which events it applied (written with the effect).
/// `dead_letters`: events a consumer here could not apply after its retries.
pub const EVENT_TABLES: &str = "
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id      BLOB    NOT NULL UNIQUE,
    event_name    TEXT    NOT NULL,
    event_version INTEGER NOT NULL,
    event_time    TEXT    NOT NULL,
    producer      TEXT    NOT NULL,
    data          TEXT    NOT NULL
);
CREATE TABLE consumer_positions (
    consumer TEXT    PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE inbox (
    consumer   TEXT NOT NULL,
    event_id   BLOB NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
) WITHOUT ROWID;
CREATE TABLE dead_letters (
    id            BLOB    PRIMARY KEY,
    consumer      TEXT    NOT NULL,
    event_id      BLOB    NOT NULL,
    event_name    TEXT    NOT NULL,
    event_version INTEGER NOT NULL,
    envelope      TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    parked_at     TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'parked',
    resolved_at   TEXT
);
CREATE INDEX dead_letters_by_consumer ON dead_letters (consumer, status);
";

/// Added later to every context's `dead_letters`: an admin may discard a dead letter that
/// can never apply (e.g. it breaks its schema), giving a reason that is kept.
pub const DEAD_LETTER_RESOLUTION: &str = "
ALTER TABLE dead_letters ADD COLUMN resolution TEXT;
CREATE INDEX dead_letters_by_consumer_id ON dead_letters (consumer, id);
";

/// Added later to every context's database, for split mode (events carried by RabbitMQ):
/// `relay_positions`: how far the relay has published this context's outbox, moved only
/// after the broker confirmed, and the producer's identity; `received_sources`: whose
/// events each source's are; `received`: other contexts' events as they arrived from the
/// broker, contiguous per source (the consumers here read them like an outbox).
pub const TRANSPORT_TABLES: &str = "
CREATE TABLE relay_positions (
    producer    TEXT    PRIMARY KEY,
    position    INTEGER NOT NULL,
    producer_id TEXT    NOT NULL
) WITHOUT ROWID;
-- The one producer each source's events are taken from (its identity, first seen).
CREATE TABLE received_sources (
    source      TEXT PRIMARY KEY,
    producer_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE received (
    source        TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    -- Untyped (no affinity): each value is kept exactly as the producer's row held it.
    event_id,
    event_name,
    event_version,
    event_time,
    producer,
    data,
    received_at   TEXT    NOT NULL,
    PRIMARY KEY (source, seq)
) WITHOUT ROWID;
";
