//! tm's module parameters, read once from the config.

use std::time::Duration;

use kemi_core::config::Config;
use kemi_core::sip::Signature;
use kemi_core::{ModParam, ModParamKind};

/// The timers and switches of the `tm` modparams, with Kamailio's defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `fr_timer`: how long a branch waits for any reply.
    pub fr: Duration,
    /// `fr_inv_timer`: how long an INVITE branch waits for a final reply
    /// once it has a provisional one.
    pub fr_inv: Duration,
    /// `wt_timer`: how long a completed transaction stays to absorb
    /// retransmissions.
    pub wait: Duration,
    /// `retr_timer1` (T1) and `retr_timer2` (T2), RFC 3261 17.
    pub t1: Duration,
    pub t2: Duration,
    /// `max_inv_lifetime` / `max_noninv_lifetime`: a transaction is
    /// removed after this long whatever its state.
    pub max_inv_lifetime: Duration,
    pub max_noninv_lifetime: Duration,
    /// `auto_inv_100`: answer INVITEs with 100 Trying before relaying.
    pub auto_inv_100: bool,
    /// `auto_inv_100_reason`.
    pub auto_inv_100_reason: String,
    /// `failure_reply_mode`: 0 considers every branch's reply after the
    /// failure route; other values only the branches it added, when it
    /// added any.
    pub failure_reply_mode: i64,
    /// `restart_fr_on_each_reply`: provisional replies restart fr_inv_timer.
    pub restart_fr_on_each_reply: bool,
    /// `event_callback`: the script function for tm's events.
    pub event_callback: Option<String>,
    /// The core's Server/User-Agent lines for what tm builds itself.
    pub signature: Signature,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fr: Duration::from_millis(30_000),
            fr_inv: Duration::from_millis(120_000),
            wait: Duration::from_millis(5_000),
            t1: Duration::from_millis(500),
            t2: Duration::from_millis(4_000),
            max_inv_lifetime: Duration::from_millis(180_000),
            max_noninv_lifetime: Duration::from_millis(32_000),
            auto_inv_100: true,
            auto_inv_100_reason: "Trying".into(),
            failure_reply_mode: 3,
            restart_fr_on_each_reply: true,
            event_callback: None,
            signature: Signature::new(true, None, None),
        }
    }
}

impl Settings {
    /// The settings a config gives (defaults for what it leaves out).
    pub fn from_config(config: &Config) -> Self {
        let mut s = Settings {
            signature: Signature::new(
                config.server_signature,
                config.server_header.as_deref(),
                config.user_agent_header.as_deref(),
            ),
            ..Settings::default()
        };
        let Some(tm) = config.module("tm") else {
            return s;
        };
        let ms = |name: &str, default: Duration| {
            tm.param(name)
                .and_then(|v| v.as_int())
                .and_then(|v| u64::try_from(v).ok())
                .filter(|v| *v > 0)
                .map(Duration::from_millis)
                .unwrap_or(default)
        };
        let flag = |name: &str, default: bool| {
            tm.param(name)
                .and_then(|v| v.as_int())
                .map(|v| v != 0)
                .unwrap_or(default)
        };
        s.fr = ms("fr_timer", s.fr);
        s.fr_inv = ms("fr_inv_timer", s.fr_inv);
        s.wait = ms("wt_timer", s.wait);
        s.t1 = ms("retr_timer1", s.t1);
        s.t2 = ms("retr_timer2", s.t2);
        s.max_inv_lifetime = ms("max_inv_lifetime", s.max_inv_lifetime);
        s.max_noninv_lifetime = ms("max_noninv_lifetime", s.max_noninv_lifetime);
        s.auto_inv_100 = flag("auto_inv_100", s.auto_inv_100);
        s.restart_fr_on_each_reply = flag("restart_fr_on_each_reply", s.restart_fr_on_each_reply);
        if let Some(r) = tm.param("auto_inv_100_reason").and_then(|v| v.as_str()) {
            s.auto_inv_100_reason = r.to_string();
        }
        if let Some(m) = tm.param("failure_reply_mode").and_then(|v| v.as_int()) {
            s.failure_reply_mode = m;
        }
        s.event_callback = tm
            .param("event_callback")
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        s
    }
}

const fn int(name: &'static str, doc: &'static str) -> ModParam {
    ModParam {
        name,
        kind: ModParamKind::Int,
        repeatable: false,
        doc,
    }
}

const fn string(name: &'static str, doc: &'static str) -> ModParam {
    ModParam {
        name,
        kind: ModParamKind::Str,
        repeatable: false,
        doc,
    }
}

/// Accepted so Kamailio configs load; tuning of Kamailio's internals that
/// has no equivalent here.
const ACCEPTED: &str = "Accepted for compatibility; no effect here.";

/// The `tm` modparams.
pub static PARAMS: &[ModParam] = &[
    int("fr_timer", "Milliseconds a branch waits for a reply before it times out with 408 (default 30000)."),
    int("fr_inv_timer", "Milliseconds an INVITE branch with a provisional reply waits for the final one (default 120000)."),
    int("wt_timer", "Milliseconds a completed transaction is kept to absorb retransmissions (default 5000)."),
    int("retr_timer1", "T1 in milliseconds: first retransmission interval on UDP (default 500)."),
    int("retr_timer2", "T2 in milliseconds: the longest retransmission interval (default 4000)."),
    int("max_inv_lifetime", "Milliseconds after which an INVITE transaction is removed whatever its state (default 180000)."),
    int("max_noninv_lifetime", "Milliseconds after which a non-INVITE transaction is removed (default 32000)."),
    int("auto_inv_100", "Non-zero (default 1): answer INVITEs with 100 Trying when relaying them."),
    string("auto_inv_100_reason", "Reason phrase of the automatic 100 (default \"Trying\")."),
    int("failure_reply_mode", "Which replies count after a failure route re-relayed: 0 all branches, else only the new ones (default 3)."),
    int("restart_fr_on_each_reply", "Non-zero (default 1): each provisional reply restarts fr_inv_timer."),
    string("event_callback", "Script function run for tm events (`tm:local-request`, `tm:branch-failure:<name>`...), with the event name."),
    int("noisy_ctimer", ACCEPTED),
    int("unix_tx_timeout", ACCEPTED),
    int("cancel_b_method", "Kept at 1: a branch without a provisional reply is cancelled once it gets one."),
    int("reparse_invite", ACCEPTED),
    string("ac_extra_hdrs", ACCEPTED),
    int("blst_503", ACCEPTED),
    int("blst_503_def_timeout", ACCEPTED),
    int("blst_503_min_timeout", ACCEPTED),
    int("blst_503_max_timeout", ACCEPTED),
    int("blst_methods_add", ACCEPTED),
    int("blst_methods_lookup", ACCEPTED),
    int("e2e_cancel_reason", ACCEPTED),
    int("local_ack_mode", ACCEPTED),
    int("failure_exec_mode", ACCEPTED),
    int("faked_reply_prio", ACCEPTED),
    string("contacts_avp", ACCEPTED),
    string("contact_flows_avp", ACCEPTED),
    string("fr_timer_avp", ACCEPTED),
    string("fr_inv_timer_avp", ACCEPTED),
    int("enable_uac_fr", ACCEPTED),
    int("pass_provisional_replies", ACCEPTED),
    int("rich_redirect", ACCEPTED),
    int("dns_reuse_rcv_socket", ACCEPTED),
    string("xavp_contact", ACCEPTED),
    int("callid_matching", ACCEPTED),
    int("via1_matching", ACCEPTED),
    int("ruri_matching", ACCEPTED),
    int("event_callback_lres_mode", ACCEPTED),
    int("relay_100", ACCEPTED),
    int("reply_relay_mode", ACCEPTED),
];
