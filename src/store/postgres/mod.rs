//! The PostgreSQL store (work in progress: the connection, schema, reads,
//! write transaction and live feed).

pub mod conn;
pub mod listen;
pub mod read;
pub mod schema;
#[doc(hidden)]
pub mod test_db;
pub mod write;
