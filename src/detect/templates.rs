//! Log templates: which kept log lines say the same thing. A line's
//! template is its `program: message` with the variable parts masked
//! ([`MASKS`]: the fields of nginx error lines, referers (dropped: they
//! are there only sometimes, and a template is one length), URLs, quoted
//! values, addresses, ids, hex, paths, numbers), then generalised further by
//! a small Drain tree learned from the inputs themselves (He et al., *Drain:
//! An Online Log Parsing Approach with Fixed Depth Tree*, ICWS 2017; the
//! masking step as Drain3 does it): lines of one length whose first
//! [`PREFIX_TOKENS`] tokens agree fall into one leaf, and a line joins the
//! leaf's most similar cluster when at least [`SIMILARITY_THRESHOLD`] of its
//! tokens agree with it, the positions that differ becoming `<*>`.
//!
//! Templates are mined once per run over every kept event, once per
//! distinct message (a cache by text), so the timeline, the evidence list
//! and the log-pattern signals read one id per event and never mask a line
//! at render time. Changes, alerts and recoveries are steps, not noise:
//! they join a cluster only when their masked text is the same
//! ([`STEP_SIMILARITY`]), so `Started nginx.service` and `Started
//! app.service` stay two templates.
//!
//! The crates that mine templates (`logdrain`, `drain3`) were read and not
//! taken: both carry a concurrent, persistent miner (dashmap, bincode,
//! string interners) this run does not need, and the masks that matter here
//! (nginx's `client: ...` fields, Apache's `, referer:`) are this table
//! anyway; the tree itself is the short part.

use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::ingest::events::{Event, EventKind};

/// What replaces a variable part of a message.
pub const WILDCARD: &str = "<*>";

/// One row of the masking table: what a variable part looks like and what
/// it becomes, with a line it masks and one it leaves alone.
#[derive(Clone, Copy, Debug)]
pub struct Mask {
    pub name: &'static str,
    pub pattern: &'static str,
    /// The replacement (`$1` keeps a captured label).
    pub replacement: &'static str,
    /// A message and what the table as a whole makes of it.
    pub example: (&'static str, &'static str),
    /// A message this row's pattern does not match.
    pub untouched: &'static str,
}

/// The masking table, applied in order to `program: message`. Field masks
/// come first (they swallow whatever a field holds, addresses and URLs
/// included); numbers last, and only whole numbers, so message ids such as
/// `AH00124` or `e1000e` stay part of the template.
pub const MASKS: &[Mask] = &[
    Mask {
        name: "optional referer fields, dropped",
        pattern: r#", (?:referer|referrer): (?:"(?:[^"\\]|\\.)*"|[^,]*)"#,
        replacement: "",
        example: (
            "apache: AH00124: Request exceeded the limit of 10 internal redirects, referer: https://www.google.com/",
            "apache: AH00124: Request exceeded the limit of <*> internal redirects",
        ),
        untouched: "apache: AH00124: Request exceeded the limit of 10 internal redirects",
    },
    Mask {
        name: "fields of nginx and Apache error lines",
        pattern: r#"(, (?:client|server|request|upstream|host|subrequest): )(?:"(?:[^"\\]|\\.)*"|[^,]*)"#,
        replacement: "${1}<*>",
        example: (
            r#"nginx: connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop, request: "GET /a HTTP/1.1", upstream: "http://10.0.3.11:8080/a", host: "shop""#,
            r#"nginx: connect() failed (<*>: Connection refused) while connecting to upstream, client: <*>, server: <*>, request: <*>, upstream: <*>, host: <*>"#,
        ),
        untouched: "nginx: worker_connections are not enough",
    },
    Mask {
        name: "URLs",
        pattern: r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,]+",
        replacement: "<*>",
        example: (
            "app: GET https://shop.example.net/cart?id=4 failed",
            "app: GET <*> failed",
        ),
        untouched: "app: GET failed: scheme missing",
    },
    Mask {
        name: "double-quoted values",
        pattern: r#""(?:[^"\\]|\\.)*""#,
        replacement: "\"<*>\"",
        example: (
            r#"nginx: open() "/var/www/x.php" failed"#,
            r#"nginx: open() "<*>" failed"#,
        ),
        untouched: "nginx: open() failed",
    },
    Mask {
        name: "single-quoted values with a digit, dot or slash",
        pattern: r"'[^'\s]*[0-9./][^'\s]*'",
        replacement: "'<*>'",
        example: (
            "app: cannot open '/run/app/7.sock'",
            "app: cannot open '<*>'",
        ),
        untouched: "systemd: app.service: Failed with result 'oom-kill'.",
    },
    Mask {
        name: "UUIDs",
        pattern: r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        replacement: "<*>",
        example: (
            "app: job 550e8400-e29b-41d4-a716-446655440000 done",
            "app: job <*> done",
        ),
        untouched: "app: job done",
    },
    Mask {
        name: "IPv6 and MAC addresses",
        pattern: r"\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b|\b[0-9a-fA-F]{1,4}::(?:[0-9a-fA-F]{1,4}:?)*",
        replacement: "<*>",
        example: (
            "sshd: Connection from 2406:3003:42a1:6e6c:d640:e4cf:de71:c7d",
            "sshd: Connection from <*>",
        ),
        untouched: "cron: ran at 14:00:03.123",
    },
    Mask {
        name: "IPv4 addresses with their port",
        pattern: r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]+)?\b",
        replacement: "<*>",
        example: (
            "php: read error on connection to 10.10.0.12:6379",
            "php: read error on connection to <*>",
        ),
        untouched: "php: version 8.2 loaded",
    },
    Mask {
        name: "hex numbers and hex ids of 8 digits or more",
        pattern: r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b",
        replacement: "<*>",
        example: (
            "kernel: segfault at 0 ip 000055d0c8a1b2c3 sp 0x7ffd",
            "kernel: segfault at <*> ip <*> sp <*>",
        ),
        untouched: "kernel: e1000e: eth0 NIC Link is Down",
    },
    Mask {
        name: "paths of three parts or more",
        pattern: r"(?:/[\w.@%+~-]+){3,}/?",
        replacement: "<*>",
        example: (
            "php: error in /var/www/shop/src/Db.php on line 42",
            "php: error in <*> on line <*>",
        ),
        untouched: "systemd: Reloading /etc/nginx.",
    },
    Mask {
        name: "whole numbers",
        pattern: r"(^|[^\w.-])[0-9]+(?:[.,][0-9]+)*\b",
        replacement: "${1}<*>",
        example: (
            "php-fpm8.2: server reached pm.max_children setting (6), consider raising it",
            "php-fpm8.2: server reached pm.max_children setting (<*>), consider raising it",
        ),
        untouched: "apache: AH00124: Request exceeded the limit",
    },
];

static COMPILED: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    MASKS
        .iter()
        // The table is a constant and its test compiles every row: a row
        // that did not compile would only leave its part unmasked.
        .filter_map(|mask| Regex::new(mask.pattern).ok().map(|r| (r, mask.replacement)))
        .collect()
});

/// `text` with every variable part of [`MASKS`] replaced.
pub fn mask(text: &str) -> String {
    let mut masked = text.to_string();
    for (regex, replacement) in COMPILED.iter() {
        if regex.is_match(&masked) {
            masked = regex.replace_all(&masked, *replacement).into_owned();
        }
    }
    masked
}

/// Tokens a leaf of the tree is chosen by, after the token count (Drain's
/// depth 3: the root, the length layer and one token layer). The first
/// token of `program: message` is the program, which is what must never
/// mix; a second layer would keep `worker alice died` and `worker bob
/// died` apart for good.
pub const PREFIX_TOKENS: usize = 1;

/// The share of tokens a message must share with a cluster to join it
/// (Drain3's default is 0.4; higher keeps the rows of a postmortem apart
/// where they differ in more than a name or two).
pub const SIMILARITY_THRESHOLD: f64 = 0.6;

/// Steps (changes, alerts, recoveries) join a cluster only when every
/// token agrees: two different units restarted are two steps.
pub const STEP_SIMILARITY: f64 = 1.0;

/// Most clusters in one leaf; a message that finds no similar cluster in a
/// full leaf joins the most similar one anyway (Drain's `max_children`
/// bound, which keeps a flood of unique lines from growing the tree without
/// end).
pub const MAX_CLUSTERS_PER_LEAF: usize = 100;

/// Index of a template in [`Templates`].
pub type TemplateId = u32;

#[derive(Debug)]
struct Cluster {
    tokens: Vec<String>,
}

/// The leaf a message falls into: its kind (steps and noise never share a
/// template), its token count and its first tokens.
type LeafKey = (EventKind, usize, Vec<String>);

/// The templates of a run's events: one id per event, the text of each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Templates {
    of_event: Vec<TemplateId>,
    texts: Vec<String>,
}

impl Templates {
    /// Mines the templates of `events` in their order (once per distinct
    /// `program: message`).
    pub fn mine(events: &[Event]) -> Templates {
        let mut clusters: Vec<Cluster> = Vec::new();
        let mut leaves: FxHashMap<LeafKey, Vec<TemplateId>> = FxHashMap::default();
        let mut seen: FxHashMap<(EventKind, String), TemplateId> = FxHashMap::default();
        let mut of_event = Vec::with_capacity(events.len());
        for event in events {
            let text = event.display_text();
            let key = (event.kind, text);
            if let Some(&id) = seen.get(&key) {
                of_event.push(id);
                continue;
            }
            let masked = mask(&key.1);
            let tokens: Vec<String> = masked.split_whitespace().map(str::to_string).collect();
            let threshold = match event.kind {
                EventKind::Event => SIMILARITY_THRESHOLD,
                // Steps, and commands people ran, join only when identical.
                EventKind::Alert | EventKind::Recovery | EventKind::Change | EventKind::Action => {
                    STEP_SIMILARITY
                }
            };
            let prefix: Vec<String> = tokens.iter().take(PREFIX_TOKENS).cloned().collect();
            let leaf = leaves
                .entry((event.kind, tokens.len(), prefix))
                .or_default();
            let best = leaf
                .iter()
                .map(|&id| (id, similarity(&clusters[id as usize].tokens, &tokens)))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            let id = match best {
                Some((id, score)) if score >= threshold || leaf.len() >= MAX_CLUSTERS_PER_LEAF => {
                    generalise(&mut clusters[id as usize].tokens, &tokens);
                    id
                }
                _ => {
                    let id = clusters.len() as TemplateId;
                    clusters.push(Cluster { tokens });
                    leaf.push(id);
                    id
                }
            };
            seen.insert(key, id);
            of_event.push(id);
        }
        Templates {
            of_event,
            texts: clusters.into_iter().map(|c| c.tokens.join(" ")).collect(),
        }
    }

    /// The template of event `index` (of the events mined).
    pub fn of(&self, index: usize) -> Option<TemplateId> {
        self.of_event.get(index).copied()
    }

    /// The text of template `id`: tokens joined by one space, variable
    /// parts as [`WILDCARD`].
    pub fn text(&self, id: TemplateId) -> &str {
        self.texts.get(id as usize).map_or("", String::as_str)
    }

    /// How many templates were mined.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// Drain's sequence similarity: the share of positions whose tokens agree
/// (a wildcard agrees only with a masked part, so a template that has
/// generalised must still share its constant words).
fn similarity(template: &[String], tokens: &[String]) -> f64 {
    if tokens.is_empty() {
        return 1.0;
    }
    let same = template.iter().zip(tokens).filter(|(a, b)| a == b).count();
    same as f64 / tokens.len() as f64
}

/// Turns the positions where `tokens` differ from `template` into wildcards.
fn generalise(template: &mut [String], tokens: &[String]) {
    for (slot, token) in template.iter_mut().zip(tokens) {
        if slot != token {
            *slot = WILDCARD.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::LineRef;

    #[test]
    fn every_mask_compiles_masks_its_example_and_leaves_its_negative() {
        assert_eq!(COMPILED.len(), MASKS.len(), "every row compiles");
        for row in MASKS {
            let (text, expected) = row.example;
            assert_eq!(mask(text), expected, "{}: {text}", row.name);
            let own = Regex::new(row.pattern).map(|r| r.is_match(row.untouched));
            assert_eq!(own.ok(), Some(false), "{}: {}", row.name, row.untouched);
        }
    }

    #[test]
    fn the_masks_keep_message_ids_and_words() {
        let cases = [
            (
                "an nginx referrer, present or not",
                r#"nginx: connect() failed, client: 1.2.3.4, host: "shop", referrer: "https://shop/""#,
                "nginx: connect() failed, client: <*>, host: <*>",
            ),
            (
                "an nginx connection id and pid",
                "nginx: 2214#2214: *4832027 connect() failed",
                "nginx: <*>#<*>: *<*> connect() failed",
            ),
            (
                "a time is not an address",
                "cron: job started at 14:00:03",
                "cron: job started at <*>:<*>:<*>",
            ),
            (
                "words with digits stay",
                "kernel: e1000e: eth0 NIC Link is Down",
                "kernel: e1000e: eth0 NIC Link is Down",
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(mask(text), expected, "{name}");
        }
    }

    fn event(kind: EventKind, text: &str) -> Event {
        Event {
            at: 0,
            last_at: 0,
            kind,
            rule: "test",
            severity: None,
            host: None,
            program: None,
            text: text.to_string(),
            line: LineRef { input: 0, line: 1 },
            count: 1,
        }
    }

    #[test]
    fn drain_clusters_noise_and_keeps_steps_apart() {
        let events = [
            event(EventKind::Event, "worker alice died on host"),
            event(EventKind::Event, "worker bob died on host"),
            event(EventKind::Event, "worker carol died on host"),
            event(EventKind::Event, "worker alice died on host"),
            event(EventKind::Event, "disk sda full now"),
            event(EventKind::Change, "Started nginx.service"),
            event(EventKind::Change, "Started app.service"),
            event(EventKind::Change, "Reloading 42 workers"),
            event(EventKind::Change, "Reloading 43 workers"),
            event(EventKind::Event, "worker dave stopped at noon"),
        ];
        let templates = Templates::mine(&events);
        let ids: Vec<TemplateId> = (0..events.len())
            .map(|i| templates.of(i).unwrap_or(TemplateId::MAX))
            .collect();
        let cases = [
            ("names fold", ids[0] == ids[1] && ids[1] == ids[2], true),
            ("a repeat is cached", ids[3] == ids[0], true),
            ("another message stays apart", ids[4] == ids[0], false),
            ("two units are two changes", ids[5] == ids[6], false),
            ("numbers are masked in changes too", ids[7] == ids[8], true),
            ("too few shared words", ids[9] == ids[0], false),
        ];
        for (name, got, expected) in cases {
            assert_eq!(got, expected, "{name}");
        }
        assert_eq!(templates.text(ids[0]), "worker <*> died on host");
        assert_eq!(templates.text(ids[7]), "Reloading <*> workers");
        assert_eq!(templates.len(), 6);
    }
}
