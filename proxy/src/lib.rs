//! The `kemi-proxy` library side: the table of compiled-in modules, and
//! (as they arrive) transports, workers and the RPC server.

pub mod module_table;
