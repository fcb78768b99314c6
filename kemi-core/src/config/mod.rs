//! Loading a `kamailio.cfg`: pre-processor, global parameters, `loadmodule`,
//! `modparam` and `cfgengine`.
