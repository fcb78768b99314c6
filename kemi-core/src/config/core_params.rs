//! The core parameters a `kamailio.cfg` may assign (`name = value`), in one
//! table. "Applied" ones fill a typed field of [`Config`]; "accepted" ones
//! only tune Kamailio's C internals (memory pools, DNS cache, TCP buffers,
//! ...) and are recorded in [`Config::accepted`] and logged at debug level.
//! A name not in the table is an error, as in Kamailio.
//!
//! `listen`, `alias`, `socket`, `loadpath`/`mpath` and `cfgengine` have a
//! grammar of their own and are handled by the parser.

use super::model::{Config, Value};

/// The value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    /// An int, usually written `yes`/`no`.
    Bool,
    Str,
    /// A bare identifier or a string (`log_facility=LOG_LOCAL0`, `user=kamailio`).
    Id,
    /// Either an int or a string.
    IntOrStr,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Int => "an integer",
            Kind::Bool => "a boolean (yes/no or a number)",
            Kind::Str => "a string",
            Kind::Id => "a name or a string",
            Kind::IntOrStr => "an integer or a string",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    Applied,
    Accepted,
}

pub(crate) struct CoreParam {
    pub name: &'static str,
    pub kind: Kind,
    pub effect: Effect,
}

const fn ap(name: &'static str, kind: Kind) -> CoreParam {
    CoreParam {
        name,
        kind,
        effect: Effect::Applied,
    }
}

const fn ac(name: &'static str, kind: Kind) -> CoreParam {
    CoreParam {
        name,
        kind,
        effect: Effect::Accepted,
    }
}

use Kind::{Bool, Id, Int, IntOrStr, Str};

/// Every known core parameter. To support a new one, add a line here (and,
/// for an applied one, a field in `Config` and an arm in [`apply`]).
pub(crate) static CORE_PARAMS: &[CoreParam] = &[
    // Applied: they change what this proxy does.
    ap("debug", Int),
    ap("children", Int),
    ap("port", Int),
    ap("log_stderror", Bool),
    ap("log_prefix", Str),
    ap("log_facility", Id),
    ap("log_name", Str),
    ap("log_color", Bool),
    ap("auto_aliases", Bool),
    ap("disable_tcp", Bool),
    ap("tcp_connection_lifetime", Int),
    ap("tcp_max_connections", Int),
    ap("tcp_accept_no_cl", Bool),
    ap("tcp_children", Int),
    ap("onsend_route_reply", Bool),
    ap("server_signature", Bool),
    ap("server_header", Str),
    ap("user_agent_header", Str),
    ap("kemi.request_route_callback", Str),
    ap("kemi.reply_route_callback", Str),
    ap("kemi.onsend_route_callback", Str),
    ap("kemi.event_route_callback", Str),
    ap("latency_log", Int),
    ap("latency_limit_action", Int),
    // Accepted: features this proxy does not have (yet).
    // Workers are threads of one process that stays in the foreground.
    ac("fork", Bool),
    // The msg-received and pre-routing core events are not raised.
    ac("kemi.received_route_callback", Str),
    ac("kemi.pre_routing_callback", Str),
    // No TLS transport: `listen=tls:` sockets are skipped with a warning.
    ac("enable_tls", Bool),
    ac("disable_tls", Bool),
    ac("tls_disable", Bool),
    // No SCTP transport: `listen=sctp:` sockets are skipped with a warning.
    ac("enable_sctp", Int),
    ac("disable_sctp", Bool),
    // No asynchronous task workers (`async` module, `t_suspend`).
    ac("async_workers", Int),
    // The msg-received route (`kemi.received_route_callback`) is not run.
    ac("received_route_mode", Int),
    // No Warning header is added to replies.
    ac("sip_warning", Bool),
    // Only KSR calls are timed (`latency_limit_action`): route runs and
    // database queries are not.
    ac("latency_cfg_log", Int),
    ac("latency_limit_cfg", Int),
    ac("latency_limit_db", Int),
    // Accepted: Kamailio's C internals with no meaning here.
    ac("memdbg", Int),
    ac("mem_dbg", Int),
    ac("memlog", Int),
    ac("mem_log", Int),
    ac("mem_summary", Int),
    ac("mem_safety", Int),
    ac("mem_join", Int),
    ac("mem_status_mode", Int),
    ac("shm_mem_size", Int),
    ac("pkg_mem_size", Int),
    ac("shm_force_alloc", Bool),
    ac("mlock_pages", Bool),
    ac("corelog", Int),
    ac("core_log", Int),
    ac("log_prefix_mode", Int),
    ac("log_engine_type", Str),
    ac("log_engine_data", Str),
    ac("log_cee", Bool),
    ac("xavp_via_params", Str),
    ac("xavp_via_fields", Str),
    ac("xavp_via_reply_params", Str),
    ac("fork_delay", Int),
    ac("modinit_delay", Int),
    ac("dns", Bool),
    ac("rev_dns", Bool),
    ac("dns_try_ipv6", Bool),
    ac("dns_try_naptr", Bool),
    ac("dns_srv_lb", Bool),
    ac("dns_srv_loadbalancing", Bool),
    ac("dns_udp_pref", Int),
    ac("dns_tcp_pref", Int),
    ac("dns_tls_pref", Int),
    ac("dns_sctp_pref", Int),
    ac("dns_retr_time", Int),
    ac("dns_slow_query_ms", Int),
    ac("dns_retr_no", Int),
    ac("dns_servers_no", Int),
    ac("dns_use_search_list", Bool),
    ac("dns_search_full_match", Bool),
    ac("dns_naptr_ignore_rfc", Bool),
    ac("dns_cache_init", Bool),
    ac("use_dns_cache", Bool),
    ac("use_dns_failover", Bool),
    ac("dns_cache_flags", Int),
    ac("dns_cache_negative_ttl", Int),
    ac("dns_cache_min_ttl", Int),
    ac("dns_cache_max_ttl", Int),
    ac("dns_cache_mem", Int),
    ac("dns_cache_gc_interval", Int),
    ac("dns_cache_del_nonexp", Bool),
    ac("dns_cache_rec_pref", Int),
    ac("auto_bind_ipv6", Bool),
    ac("bind_ipv6_link_local", Int),
    ac("ipv6_hex_style", Str),
    ac("dst_blacklist_init", Bool),
    ac("use_dst_blacklist", Bool),
    ac("dst_blacklist_mem", Int),
    ac("dst_blacklist_expire", Int),
    ac("dst_blacklist_ttl", Int),
    ac("dst_blacklist_gc_interval", Int),
    ac("dst_blocklist_init", Bool),
    ac("use_dst_blocklist", Bool),
    ac("dst_blocklist_mem", Int),
    ac("dst_blocklist_expire", Int),
    ac("dst_blocklist_ttl", Int),
    ac("dst_blocklist_gc_interval", Int),
    ac("dst_blocklist_udp_imask", Int),
    ac("dst_blocklist_tcp_imask", Int),
    ac("dst_blocklist_tls_imask", Int),
    ac("dst_blocklist_sctp_imask", Int),
    ac("statistics", Str),
    ac("maxbuffer", Int),
    ac("sql_buffer_size", Int),
    ac("msg_recv_max_size", Int),
    ac("tcp_msg_read_timeout", Int),
    ac("tcp_msg_data_timeout", Int),
    ac("tcp_accept_iplimit", Int),
    ac("tcp_check_timer", Int),
    ac("socket_workers", Int),
    ac("async_nonblock", Bool),
    ac("async_usleep", Int),
    ac("async_workers_group", Str),
    ac("check_via", Bool),
    ac("phone2tel", Bool),
    ac("reply_to_via", Bool),
    ac("user", Id),
    ac("uid", Id),
    ac("group", Id),
    ac("gid", Id),
    ac("chroot", Id),
    ac("workdir", Id),
    ac("wdir", Id),
    ac("rundir", Id),
    ac("run_dir", Id),
    ac("mhomed", Bool),
    ac("tcp_accept_aliases", Bool),
    ac("tcp_send_timeout", Int),
    ac("tcp_connect_timeout", Int),
    ac("tcp_connection_match", Int),
    ac("tcp_poll_method", Id),
    ac("tls_max_connections", Int),
    ac("tcp_no_connect", Bool),
    ac("tcp_source_ipv4", Str),
    ac("tcp_source_ipv6", Str),
    ac("tcp_fd_cache", Bool),
    ac("tcp_buf_write", Bool),
    ac("tcp_async", Bool),
    ac("tcp_conn_wq_max", Int),
    ac("tcp_wq_max", Int),
    ac("tcp_rd_buf_size", Int),
    ac("tcp_wq_blk_size", Int),
    ac("tcp_defer_accept", Int),
    ac("tcp_delayed_ack", Bool),
    ac("tcp_syncnt", Int),
    ac("tcp_linger2", Int),
    ac("tcp_keepalive", Bool),
    ac("tcp_keepidle", Int),
    ac("tcp_keepintvl", Int),
    ac("tcp_keepcnt", Int),
    ac("tcp_crlf_ping", Bool),
    ac("tcp_accept_hep3", Bool),
    ac("tcp_accept_haproxy", Bool),
    ac("tcp_clone_rcvbuf", Bool),
    ac("tcp_reuse_port", Bool),
    ac("tcp_wait_data", Int),
    ac("tcp_script_mode", Int),
    ac("tcp_accept_unique", Bool),
    ac("tlslog", Int),
    ac("tls_port_no", Int),
    ac("tls_method", Id),
    ac("tls_verify", Bool),
    ac("tls_require_certificate", Bool),
    ac("tls_certificate", Str),
    ac("tls_private_key", Str),
    ac("tls_ca_list", Str),
    ac("tls_handshake_timeout", Int),
    ac("tls_send_timeout", Int),
    ac("sctp_children", Int),
    ac("sctp_socket_rcvbuf", Int),
    ac("sctp_socket_sndbuf", Int),
    ac("sctp_autoclose", Int),
    ac("sctp_send_ttl", Int),
    ac("sctp_send_retries", Int),
    ac("advertised_address", IntOrStr),
    ac("advertised_port", Int),
    ac("disable_core_dump", Bool),
    ac("open_files_limit", Int),
    ac("real_time", Int),
    ac("rt_prio", Int),
    ac("rt_policy", Int),
    ac("rt_timer1_prio", Int),
    ac("rt_timer1_policy", Int),
    ac("rt_timer2_prio", Int),
    ac("rt_timer2_policy", Int),
    ac("mcast_loopback", Bool),
    ac("mcast_ttl", Int),
    ac("mcast", Id),
    ac("tos", IntOrStr),
    ac("pmtu_discovery", Int),
    ac("exit_timeout", Int),
    ac("ser_kill_timeout", Int),
    ac("max_while_loops", Int),
    ac("pv_buffer_size", Int),
    ac("pv_buffer_slots", Int),
    ac("pv_cache_limit", Int),
    ac("pv_cache_action", Int),
    ac("http_reply_parse", Bool),
    ac("version_table", Str),
    ac("server_id", Int),
    ac("route_locks_size", Int),
    ac("msg_time", Int),
    ac("local_rport", Bool),
    ac("udp_mtu", Int),
    ac("udp_mtu_try_proto", Id),
    ac("udp4_raw", Int),
    ac("udp4_raw_mtu", Int),
    ac("udp4_raw_ttl", Int),
    ac("uri_host_extra_chars", Str),
    ac("hdr_name_extra_chars", Str),
    ac("stun_refresh_interval", Int),
    ac("stun_allow_stun", Bool),
    ac("stun_allow_fp", Bool),
    ac("verbose_startup", Bool),
    ac("wait_worker1_mode", Int),
    ac("wait_worker1_time", Int),
    ac("wait_worker1_usleep", Int),
    ac("sip_parser_log", Int),
    ac("sip_parser_log_oneline", Bool),
    ac("sip_parser_mode", Int),
    ac("sock_mode", IntOrStr),
    ac("sock_user", Id),
    ac("sock_group", Id),
    ac("return_mode", Int),
    ac("timer_procs", Int),
    ac("ksr_pvc_cleanup", Int),
];

pub(crate) fn find(name: &str) -> Option<&'static CoreParam> {
    CORE_PARAMS.iter().find(|p| p.name == name)
}

/// Words of the config grammar that defines never replace.
pub(crate) fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "listen"
            | "alias"
            | "socket"
            | "loadmodule"
            | "loadmodulex"
            | "loadpath"
            | "mpath"
            | "modparam"
            | "modparamx"
            | "cfgengine"
            | "kemi"
    ) || find(word).is_some()
}

/// Stores a value that has the parameter's kind. Returns an error message
/// when the value is out of range for its field.
pub(crate) fn apply(cfg: &mut Config, p: &CoreParam, v: Value) -> Result<(), String> {
    if p.effect == Effect::Accepted {
        tracing::debug!(
            "core parameter {} = {} accepted (no effect in this proxy)",
            p.name,
            v
        );
        cfg.accepted.insert(p.name.to_string(), v);
        return Ok(());
    }
    let name = p.name;
    let int = || v.as_int().unwrap_or(0);
    let flag = || int() != 0;
    let text = || v.as_str().map(str::to_string).unwrap_or_default();
    let u32_of = |min: i64| -> Result<u32, String> {
        let n = int();
        u32::try_from(n)
            .ok()
            .filter(|x| i64::from(*x) >= min)
            .ok_or(format!(
                "{name} must be an integer of at least {min}, not {n}"
            ))
    };
    // "" or "none" (any case) turns an optional callback off.
    let optional = || {
        let s = text();
        (!(s.is_empty() || s.eq_ignore_ascii_case("none"))).then_some(s)
    };
    match name {
        "debug" => {
            cfg.debug = i32::try_from(int())
                .map_err(|_| format!("debug level {} is out of range", int()))?
        }
        "children" => cfg.children = u32_of(1)?,
        "port" => {
            cfg.port = u16::try_from(int())
                .ok()
                .filter(|p| *p > 0)
                .ok_or(format!("port must be 1..65535, not {}", int()))?
        }
        "log_stderror" => cfg.log_stderror = Some(flag()),
        "log_prefix" => cfg.log_prefix = Some(text()),
        "log_facility" => {
            let f = text();
            if syslog_facility(&f).is_none() {
                return Err(format!(
                    "log_facility must be a syslog facility (LOG_DAEMON, LOG_LOCAL0..LOG_LOCAL7, ...), not '{f}'"
                ));
            }
            cfg.log_facility = f;
        }
        "log_name" => cfg.log_name = Some(text()),
        "log_color" => cfg.log_color = flag(),
        "auto_aliases" => cfg.auto_aliases = flag(),
        "disable_tcp" => cfg.disable_tcp = flag(),
        "tcp_connection_lifetime" => cfg.tcp_connection_lifetime = u32_of(0)?,
        "tcp_max_connections" => cfg.tcp_max_connections = u32_of(0)?,
        "tcp_accept_no_cl" => cfg.tcp_accept_no_cl = flag(),
        "tcp_children" => cfg.tcp_children = Some(u32_of(1)?),
        "onsend_route_reply" => cfg.onsend_route_reply = flag(),
        "server_signature" => cfg.server_signature = flag(),
        "server_header" => cfg.server_header = Some(header_line(name, text())?),
        "user_agent_header" => cfg.user_agent_header = Some(header_line(name, text())?),
        "kemi.request_route_callback" => {
            let s = text();
            if s.is_empty() {
                return Err("kemi.request_route_callback cannot be empty".into());
            }
            cfg.kemi.request_route = s;
        }
        "kemi.reply_route_callback" => cfg.kemi.reply_route = optional(),
        "kemi.onsend_route_callback" => cfg.kemi.onsend_route = optional(),
        "kemi.event_route_callback" => cfg.kemi.event_route = optional(),
        "latency_log" => {
            cfg.latency.log = i32::try_from(int())
                .map_err(|_| format!("latency_log level {} is out of range", int()))?
        }
        "latency_limit_action" => {
            cfg.latency.limit_action = u64::try_from(int()).map_err(|_| {
                format!(
                    "latency_limit_action must be 0 or more microseconds, not {}",
                    int()
                )
            })?
        }
        _ => {
            // An applied entry without an arm would silently do nothing;
            // the unit test below keeps the table and this match in step.
            return Err(format!(
                "core parameter {name} is not handled (internal error)"
            ));
        }
    }
    Ok(())
}

/// The syslog facilities by the names Kamailio's `log_facility` takes.
const SYSLOG_FACILITIES: &[(&str, libc::c_int)] = &[
    ("LOG_AUTH", libc::LOG_AUTH),
    ("LOG_AUTHPRIV", libc::LOG_AUTHPRIV),
    ("LOG_CRON", libc::LOG_CRON),
    ("LOG_DAEMON", libc::LOG_DAEMON),
    ("LOG_FTP", libc::LOG_FTP),
    ("LOG_KERN", libc::LOG_KERN),
    ("LOG_LOCAL0", libc::LOG_LOCAL0),
    ("LOG_LOCAL1", libc::LOG_LOCAL1),
    ("LOG_LOCAL2", libc::LOG_LOCAL2),
    ("LOG_LOCAL3", libc::LOG_LOCAL3),
    ("LOG_LOCAL4", libc::LOG_LOCAL4),
    ("LOG_LOCAL5", libc::LOG_LOCAL5),
    ("LOG_LOCAL6", libc::LOG_LOCAL6),
    ("LOG_LOCAL7", libc::LOG_LOCAL7),
    ("LOG_LPR", libc::LOG_LPR),
    ("LOG_MAIL", libc::LOG_MAIL),
    ("LOG_NEWS", libc::LOG_NEWS),
    ("LOG_SYSLOG", libc::LOG_SYSLOG),
    ("LOG_USER", libc::LOG_USER),
    ("LOG_UUCP", libc::LOG_UUCP),
];

/// The syslog facility code of a `log_facility` name (`LOG_LOCAL0`...).
pub fn syslog_facility(name: &str) -> Option<libc::c_int> {
    SYSLOG_FACILITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

/// A `server_header`/`user_agent_header` value is used as the whole header
/// line (`Server: name`), as in Kamailio; it must not break the message.
fn header_line(param: &str, value: String) -> Result<String, String> {
    if value.contains(['\r', '\n']) {
        return Err(format!("{param} must be a single header line"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/config.md says which parameters are applied and which are
    /// accepted only; it must keep up with this table.
    #[test]
    fn the_config_doc_classifies_every_parameter() {
        let doc = include_str!("../../../docs/config.md");
        let accepted_at = doc.find("## Accepted").expect("an Accepted section");
        let (applied, accepted) = doc.split_at(accepted_at);
        for p in CORE_PARAMS {
            let name = format!("`{}`", p.name);
            let section = match p.effect {
                Effect::Applied => applied,
                Effect::Accepted => accepted,
            };
            assert!(
                section.contains(&name),
                "docs/config.md does not list {} as {:?}",
                p.name,
                p.effect
            );
        }
    }

    #[test]
    fn every_applied_param_has_an_arm_and_names_are_unique() {
        for (i, p) in CORE_PARAMS.iter().enumerate() {
            assert!(
                !CORE_PARAMS[..i].iter().any(|q| q.name == p.name),
                "duplicate core parameter {}",
                p.name
            );
            if p.effect == Effect::Applied {
                let mut cfg = Config::default();
                let v = match p.kind {
                    Kind::Str => Value::Str("x".into()),
                    Kind::Id => Value::Str("LOG_LOCAL0".into()),
                    _ => Value::Int(1),
                };
                assert!(
                    apply(&mut cfg, p, v).is_ok(),
                    "{} has no arm in apply()",
                    p.name
                );
            }
        }
    }
}
