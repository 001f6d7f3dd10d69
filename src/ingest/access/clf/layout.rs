//! The layouts of the CLF family: which fields surround the common core
//! `%h %l %u %t "%r" %>s %b`, and which request time follows them.

/// The request-time field that may follow a layout, and its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationField {
    None,
    /// nginx `$request_time`: seconds with a millisecond fraction.
    Seconds,
    /// Apache `%D`: whole microseconds.
    Micros,
    /// Apache `%T`: whole seconds.
    WholeSeconds,
}

impl DurationField {
    /// Whether the field is a bare integer whose unit (`%D` or `%T`) must be
    /// told from the magnitude of the values (see `sniff`).
    pub fn is_integer(self) -> bool {
        matches!(self, DurationField::Micros | DurationField::WholeSeconds)
    }
}

/// A layout of the CLF family: which fields surround the common core
/// `%h %l %u %t "%r" %>s %b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClfLayout {
    /// A virtual host (`%v` or `%v:%p`) before the client (Apache
    /// `vhost_combined`).
    pub vhost: bool,
    /// `"referer" "user agent"` after the byte count (combined).
    pub referer_agent: bool,
    /// `"$http_x_forwarded_for"` after the user agent (nginx `main`).
    pub forwarded_for: bool,
    pub duration: DurationField,
}

impl ClfLayout {
    /// `common`: the core alone.
    pub const COMMON: ClfLayout = ClfLayout {
        vhost: false,
        referer_agent: false,
        forwarded_for: false,
        duration: DurationField::None,
    };

    /// `combined`: the core, referer and user agent.
    pub const COMBINED: ClfLayout = ClfLayout {
        referer_agent: true,
        ..ClfLayout::COMMON
    };

    /// This layout followed by a request time.
    pub const fn with_duration(self, duration: DurationField) -> ClfLayout {
        ClfLayout { duration, ..self }
    }
}

impl ClfLayout {
    /// Whether the logged time is when the request completed (nginx, which is
    /// what a fractional-seconds request time reveals) rather than when it
    /// arrived (Apache's `%t`).
    pub fn logs_completion(&self) -> bool {
        self.duration == DurationField::Seconds
    }
}

/// A named CLF layout users can also pass with `--log-format`, and the
/// nginx `log_format` or Apache `LogFormat` it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClfPreset {
    pub name: &'static str,
    pub layout: ClfLayout,
    pub definition: &'static str,
}

const COMMON: ClfLayout = ClfLayout::COMMON;
const COMBINED: ClfLayout = ClfLayout::COMBINED;
const VCOMBINED: ClfLayout = ClfLayout {
    vhost: true,
    ..ClfLayout::COMBINED
};
const NGINX_MAIN: ClfLayout = ClfLayout {
    forwarded_for: true,
    ..ClfLayout::COMBINED
};

macro_rules! clf_presets {
    ($base:expr, $name:literal, $apache:literal, $nginx:literal) => {
        [
            ClfPreset {
                name: concat!($name, "+usec"),
                layout: $base.with_duration(DurationField::Micros),
                definition: concat!($apache, " %D"),
            },
            ClfPreset {
                name: concat!($name, "+sec"),
                layout: $base.with_duration(DurationField::WholeSeconds),
                definition: concat!($apache, " %T"),
            },
            ClfPreset {
                name: concat!($name, "+request_time"),
                layout: $base.with_duration(DurationField::Seconds),
                definition: concat!($nginx, " $request_time"),
            },
            ClfPreset {
                name: $name,
                layout: $base,
                definition: $apache,
            },
        ]
    };
}

const VCOMBINED_PRESETS: [ClfPreset; 4] = clf_presets!(
    VCOMBINED,
    "vcombined",
    r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#,
    r#"$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
);
const NGINX_MAIN_PRESETS: [ClfPreset; 4] = clf_presets!(
    NGINX_MAIN,
    "nginx-main",
    r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i""#,
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#
);
const COMBINED_PRESETS: [ClfPreset; 4] = clf_presets!(
    COMBINED,
    "combined",
    r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#,
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
);
const COMMON_PRESETS: [ClfPreset; 4] = clf_presets!(
    COMMON,
    "common",
    r#"%h %l %u %t "%r" %>s %b"#,
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#
);

/// The CLF presets, most specific first: when two read the same lines, the
/// earlier one wins (an integer request time is `%D` or `%T`, told apart by
/// magnitude; nginx always prints `$request_time` with a fraction).
pub const CLF_PRESETS: [ClfPreset; 16] = {
    let groups = [
        VCOMBINED_PRESETS,
        NGINX_MAIN_PRESETS,
        COMBINED_PRESETS,
        COMMON_PRESETS,
    ];
    let mut presets = [COMMON_PRESETS[0]; 16];
    let mut group = 0;
    while group < groups.len() {
        let mut member = 0;
        while member < 4 {
            presets[group * 4 + member] = groups[group][member];
            member += 1;
        }
        group += 1;
    }
    presets
};
