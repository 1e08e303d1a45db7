//! The label sets of the `wharf_*` families and the fixed values some labels take.

use prometheus_client::encoding::EncodeLabelSet;

macro_rules! label_values {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// The label value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

label_values!(
    /// How a turn ended (`wharf_turns_total{outcome}`).
    TurnOutcome {
        /// Its effects committed.
        Committed => "committed",
        /// A concurrent turn changed what it read; it runs again.
        Conflict => "conflict",
        /// Its inbox entry could not be read and was dead-lettered.
        Failed => "failed",
        /// The host could not serve a plugin call; it runs again.
        HostFault => "host_fault",
        /// Another run already committed it.
        AlreadyHandled => "already_handled",
        /// Another runtime holds the lane now.
        LeaseLost => "lease_lost",
        /// The commit itself failed; it runs again.
        CommitError => "commit_error",
    }
);

label_values!(
    /// Why a plugin call counts as failed (`wharf_plugin_failures_total{reason}`).
    FailureReason {
        /// It trapped (panic, bad memory access, …).
        Trap => "trap",
        /// It ran past its time budget.
        Timeout => "timeout",
        /// It ran past its memory cap.
        Memory => "memory",
        /// It hit one of its budgets (timers, events, messages, hops, kv).
        Budget => "budget",
        /// It returned an error.
        Refused => "refused",
    }
);

label_values!(
    /// Which queue a dead letter came from.
    Queue {
        /// An inbox entry that could not be read.
        Inbox => "inbox",
        /// An outbox call Telegram refused for good.
        Outbox => "outbox",
    }
);

label_values!(
    /// How one Bot API send ended (`wharf_telegram_sends_total{outcome}`).
    SendOutcome {
        /// Telegram accepted it.
        Ok => "ok",
        /// 429: retried after Telegram's pause.
        RetryAfter => "429",
        /// 403: the user blocked the bot (or it left the chat).
        Forbidden => "403",
        /// Another 4xx: refused for good.
        ClientError => "4xx",
        /// A 5xx or an unreadable answer: retried.
        ServerError => "5xx",
        /// No answer (connection, timeout): retried.
        Network => "network",
        /// Dead-lettered: counted besides the request's own outcome (403, 4xx), or alone
        /// when no request was made (unreadable row, unknown handle; method `unknown`
        /// when the row cannot be read).
        Dead => "dead",
    }
);

label_values!(
    /// What became of an update from Telegram.
    UpdateOutcome {
        /// Queued in the inbox.
        Received => "received",
        /// A kind of update Wharf does not handle.
        Unsupported => "unsupported",
        /// It could not be read.
        Malformed => "malformed",
        /// A webhook delivery of an update already queued.
        Duplicate => "duplicate",
    }
);

label_values!(
    /// Why a webhook request was refused.
    WebhookRefusal {
        /// Wrong or missing secret token.
        Unauthorized => "unauthorized",
        /// Too many connections at once.
        Connections => "connections",
    }
);

/// Every `method` label value of the Telegram families.
pub(super) const METHODS: [&str; 7] =
    ["sendMessage", "sendPhoto", "sendDocument", "editMessageText", "deleteMessage", "answerCallbackQuery", "unknown"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct HttpLabels {
    pub plugin: String,
    pub host: String,
    pub outcome: &'static str,
}

/// How a plugin's outbound HTTP request ended (`wharf_plugin_http_requests_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A 1xx, 2xx or 3xx answer.
    Ok,
    /// 429 Too Many Requests.
    RateLimited,
    /// Another 4xx answer.
    ClientError,
    /// A 5xx answer.
    ServerError,
    /// No answer in time.
    Timeout,
    /// The body was over the cap.
    TooLarge,
    /// Connection or protocol failure.
    Failed,
    /// Refused by the host before leaving (not granted, non-public address, bad URL).
    Refused,
}

impl HttpOutcome {
    /// The outcome of an answer with `status`.
    pub fn of_status(status: u16) -> Self {
        match status {
            429 => Self::RateLimited,
            400..=499 => Self::ClientError,
            500..=599 => Self::ServerError,
            _ => Self::Ok,
        }
    }

    /// Its label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::RateLimited => "rate_limited",
            Self::ClientError => "client_error",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::TooLarge => "too_large",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct PluginLabel {
    pub plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct PluginReason {
    pub plugin: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct BudgetLabels {
    pub plugin: String,
    pub budget: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct QueueLabel {
    pub queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SendLabels {
    pub method: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct MethodLabel {
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AlertLabel {
    pub alert: String,
}
