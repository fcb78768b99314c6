//! The `kemi-proxy` library side: the table of compiled-in modules,
//! transports, workers and server startup; `main.rs` is only the CLI.

pub mod config;
pub mod logging;
pub mod module_table;
pub mod router;
pub mod server;
pub mod settings;
pub mod sipmsg;
pub mod stats;
pub mod transport;
pub mod worker;
