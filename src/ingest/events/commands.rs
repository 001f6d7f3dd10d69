//! What people ran, as the logs record it: the command records of `sudo`,
//! bash history sent to syslog, snoopy and auditd (`USER_CMD`, `EXECVE`),
//! read into who ran what, in which folder ([`CommandRecord`]), and the
//! named table that sorts a command into a change (a configuration write,
//! a package or deploy step), a mitigation (a restart, a reload, a kill) or
//! an investigation (a look that changes nothing): [`COMMAND_CLASSES`].
//!
//! The classifier ([`super::classify`]) reads a record before its own
//! table: a command record is the response's own account of itself, so its
//! class comes from the command, never from words elsewhere in the line
//! (`sudo ... COMMAND=/usr/bin/git log` is not a deploy because the user is
//! called `deploy`). A record whose command matches no row is an action of
//! class [`ActionClass::Unclassified`]: kept, never guessed.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a command did, as the response's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionClass {
    /// A look that changes nothing (`systemctl status`, `tail`, `mysqladmin
    /// processlist`).
    Investigation,
    /// An attempt to end the impact without changing the configuration
    /// (`systemctl restart`, `kill`, `nginx -s reload`); before the impact
    /// the same command is an operation of the change that preceded it.
    Mitigation,
    /// A command no row of [`COMMAND_CLASSES`] knows.
    Unclassified,
}

impl ActionClass {
    /// The rule name an action event carries (see [`super::Event::rule`]).
    pub fn rule(self) -> &'static str {
        match self {
            ActionClass::Investigation => INVESTIGATION_RULE,
            ActionClass::Mitigation => MITIGATION_RULE,
            ActionClass::Unclassified => UNCLASSIFIED_RULE,
        }
    }

    /// The class of an action event's rule name.
    pub fn of_rule(rule: &str) -> Option<ActionClass> {
        match rule {
            INVESTIGATION_RULE => Some(ActionClass::Investigation),
            MITIGATION_RULE => Some(ActionClass::Mitigation),
            UNCLASSIFIED_RULE => Some(ActionClass::Unclassified),
            _ => None,
        }
    }
}

/// Rule name of commands that only look.
pub const INVESTIGATION_RULE: &str = "investigation";
/// Rule name of commands that restart, reload or stop something.
pub const MITIGATION_RULE: &str = "mitigation";
/// Rule name of commands no row knows.
pub const UNCLASSIFIED_RULE: &str = "command";

/// What the table makes of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandClass {
    /// A change of the system: its rule name is the row's.
    Change,
    Action(ActionClass),
}

/// One row of [`COMMAND_CLASSES`].
#[derive(Clone, Copy, Debug)]
pub struct CommandRule {
    pub name: &'static str,
    pub class: CommandClass,
    /// Matched against the command with its program's folder left out
    /// (`vim /etc/apache2/sites-available/shop.conf`).
    pub pattern: &'static str,
    /// A command this row must classify.
    pub example: &'static str,
}

/// Where a configuration file lives or what its name ends with.
macro_rules! config_path {
    () => {
        r"(?:/etc/|\.conf\b|\.cfg\b|\.cnf\b|\.ini\b|\.ya?ml\b|\.toml\b|\.json\b|\.env\b|\.htaccess)"
    };
}

/// The command table, in priority order: writes before restarts before
/// looks (`sed -i` writes where `sed` only reads).
pub const COMMAND_CLASSES: &[CommandRule] = &[
    CommandRule {
        name: "configuration write",
        class: CommandClass::Change,
        pattern: concat!(
            r"^(?:vim?|nvim|nano|emacs|pico|joe|mcedit|ed|sudoedit|tee(?: -a)?|cp|mv|install|ln -sf?|rm|truncate|patch|chmod|chown|sed (?:-\w* )*-i\S*|perl -p?i\S*|augtool|crudini --set) .*",
            config_path!()
        ),
        example: "vim /etc/apache2/sites-available/shop.conf",
    },
    CommandRule {
        name: "configuration write",
        class: CommandClass::Change,
        pattern: r"^(?:git|etckeeper) (?:-C \S+ )?(?:checkout|revert|reset|pull|apply|merge|stash pop|commit)\b|^(?:a2(?:en|dis)(?:site|mod|conf)|nginx_(?:en|dis)site) ",
        example: "git -C /etc/apache2 checkout HEAD~1 -- sites-available/shop.conf",
    },
    CommandRule {
        name: "package change",
        class: CommandClass::Change,
        pattern: r"^(?:apt|apt-get|aptitude|yum|dnf|zypper|apk|pip3?|npm|gem|snap) (?:-\S+ )*(?:install|upgrade|dist-upgrade|full-upgrade|remove|purge|erase|add|refresh)\b|^dpkg (?:-i|--install|-r|--remove|-P|--purge)\b|^rpm (?:-i|-U|-e|-F)\w*\b",
        example: "apt-get install -y nginx=1.24.0-2",
    },
    CommandRule {
        name: "deploy",
        class: CommandClass::Change,
        pattern: r"^(?:kubectl (?:apply|set|rollout (?:restart|undo)|scale|patch|replace|edit|delete|create)|helm (?:upgrade|install|rollback|uninstall)|docker(?: compose|-compose)? (?:up|pull|run|service update|stack deploy)|ansible-playbook|puppet (?:agent|apply)|chef-client|salt(?:-call)? |terraform apply|cap \S+ deploy|\S*deploy\S*)",
        example: "ansible-playbook -i prod lb-pool-migration.yml --tags rollback",
    },
    CommandRule {
        name: "restart or reload",
        class: CommandClass::Action(ActionClass::Mitigation),
        pattern: r"^(?:systemctl (?:-\S+ )*(?:restart|reload|try-restart|reload-or-restart|try-reload-or-restart|start|stop|kill|reset-failed)|service \S+ (?:restart|reload|start|stop|force-reload)|(?:apache2ctl|apachectl|httpd) (?:-k )?(?:graceful|restart|stop|start|graceful-stop)|nginx -s (?:reload|stop|quit|reopen)|haproxy .*-sf|(?:kill|killall|pkill)\b|reboot|shutdown|(?:/etc/)?init\.d/\S+ (?:restart|reload|start|stop)|supervisorctl (?:restart|start|stop)|pm2 (?:restart|reload)|docker (?:restart|stop|start|kill)|echo \d > /proc/sys/vm/drop_caches|sync\b)",
        example: "systemctl restart apache2",
    },
    CommandRule {
        name: "look",
        class: CommandClass::Action(ActionClass::Investigation),
        pattern: r"^(?:systemctl (?:-\S+ )*(?:status|is-active|is-enabled|is-failed|list-units|list-timers|cat|show)|service \S+ status|journalctl|tail|less|more|cat|zcat|head|grep|sed|jq|sort|uniq|cut|zgrep|egrep|fgrep|rg|awk|wc|ls|find|stat|file|ps|pstree|top|htop|atop|free|vmstat|iostat|mpstat|sar|pidstat|df|du|lsblk|mount|uptime|w|who|last|dmesg|netstat|ss|lsof|ping6?|traceroute|tracepath|mtr|dig|nslookup|host|curl|wget|http|nc|telnet|openssl s_client|tcpdump|ip (?:-\S+ )*(?:a|addr|address|r|route|link|neigh|-s)|ifconfig|ethtool|iptables -[LS]|nft list|conntrack -[LS]|mysqladmin|mysql|mysqlcheck|psql|pg_isready|redis-cli|mongo|mongosh|git (?:-C \S+ )?(?:log|diff|show|status|blame)|diff|cmp|(?:apache2ctl|apachectl|httpd) (?:-t|configtest|-S|-M|-V)|nginx -[tTV]|haproxy -c|php-fpm\S* -t|strace|ltrace|perf|gdb|jstack|jmap|jcmd|docker (?:ps|logs|inspect|stats)|kubectl (?:get|describe|logs|top)|crictl (?:ps|logs)|env|id|date|hostname|uname|printenv|which|whereis|history|sysctl -a|getent)\b",
        example: "mysqladmin processlist",
    },
];

static COMPILED: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    // The table is a constant and its test compiles it; an empty set keeps
    // every command unclassified rather than guessing.
    regex::RegexSet::new(COMMAND_CLASSES.iter().map(|rule| rule.pattern))
        .unwrap_or_else(|_| regex::RegexSet::empty())
});

/// Who ran a command: a user name, or a numeric id when that is all the
/// record names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    User(String),
    Uid(String),
    Unknown,
}

/// One command as a record names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord<'a> {
    /// Which kind of record: `sudo`, `bash history`, `snoopy`, `auditd`.
    pub source: &'static str,
    pub actor: Actor,
    /// The working folder, when the record names it.
    pub cwd: Option<&'a str>,
    /// The command line as run (auditd's hex decoded).
    pub command: Cow<'a, str>,
}

static SUDO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^sudo: +(\S+) : (?:TTY=[^;]*; )?(?:PWD=([^;]*?) ; )?(?:USER=[^;]*; )?(?:[A-Z]+=[^;]*; )*COMMAND=(.+)$").ok()
});
static BASH_HISTORY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^-?(?:ba)?sh: HISTORY: (?:PID=\d+ )?(?:UID=(\d+)|USER=(\S+)) (?:PWD=(\S+) )?(.+)$")
        .ok()
});
static SNOOPY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^snoopy: \[([^\]]*)\]: (.+)$").ok());
static AUDIT_USER_CMD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"type=USER_CMD .*?\b(?:auid|uid)=(\d+).*?cwd=(?:"([^"]*)"|(\S+)) cmd=(?:"([^"]*)"|([0-9A-Fa-f]+))"#).ok()
});
static AUDIT_EXECVE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"type=EXECVE .*?argc=\d+ (a0=.*)$"#).ok());

/// The command record in `text` (`program: message`), if it is one. Failed
/// sudo attempts (`incorrect password attempts`, `command not allowed`)
/// ran nothing and are not records.
pub fn parse_record(text: &str) -> Option<CommandRecord<'_>> {
    if let Some(caps) = SUDO.as_ref().and_then(|re| re.captures(text)) {
        let head = &text[..caps.get(3).map_or(0, |m| m.start())];
        if head.contains("incorrect password") || head.contains("not allowed") {
            return None;
        }
        return Some(CommandRecord {
            source: "sudo",
            actor: Actor::User(caps.get(1)?.as_str().to_string()),
            cwd: caps.get(2).map(|m| m.as_str()),
            command: Cow::Borrowed(caps.get(3)?.as_str().trim()),
        });
    }
    if let Some(caps) = BASH_HISTORY.as_ref().and_then(|re| re.captures(text)) {
        let actor = match (caps.get(1), caps.get(2)) {
            (Some(uid), _) => Actor::Uid(uid.as_str().to_string()),
            (None, Some(user)) => Actor::User(user.as_str().to_string()),
            (None, None) => Actor::Unknown,
        };
        return Some(CommandRecord {
            source: "bash history",
            actor,
            cwd: caps.get(3).map(|m| m.as_str()),
            command: Cow::Borrowed(caps.get(4)?.as_str().trim()),
        });
    }
    if let Some(caps) = SNOOPY.as_ref().and_then(|re| re.captures(text)) {
        let fields = caps.get(1)?.as_str();
        let field = |name: &str| {
            fields
                .split(' ')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix(':'))
        };
        let actor = match (field("login"), field("username"), field("uid")) {
            (Some(user), _, _) | (None, Some(user), _) => Actor::User(user.to_string()),
            (None, None, Some(uid)) => Actor::Uid(uid.to_string()),
            (None, None, None) => Actor::Unknown,
        };
        return Some(CommandRecord {
            source: "snoopy",
            actor,
            cwd: field("cwd"),
            command: Cow::Borrowed(caps.get(2)?.as_str().trim()),
        });
    }
    if let Some(caps) = AUDIT_USER_CMD.as_ref().and_then(|re| re.captures(text)) {
        let command = match (caps.get(4), caps.get(5)) {
            (Some(quoted), _) => Cow::Borrowed(quoted.as_str()),
            (None, Some(hex)) => Cow::Owned(decode_hex(hex.as_str())?),
            (None, None) => return None,
        };
        return Some(CommandRecord {
            source: "auditd",
            actor: Actor::Uid(caps.get(1)?.as_str().to_string()),
            cwd: caps.get(2).or(caps.get(3)).map(|m| m.as_str()),
            command,
        });
    }
    if let Some(caps) = AUDIT_EXECVE.as_ref().and_then(|re| re.captures(text)) {
        return Some(CommandRecord {
            source: "auditd",
            actor: Actor::Unknown,
            cwd: None,
            command: Cow::Owned(execve_arguments(caps.get(1)?.as_str())?),
        });
    }
    None
}

/// auditd writes a value with spaces or quotes as hex.
fn decode_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// `a0="systemctl" a1="status" a2=6D7973716C` as one command line.
fn execve_arguments(arguments: &str) -> Option<String> {
    let mut words = Vec::new();
    for pair in arguments.split(' ') {
        let Some((_, value)) = pair.split_once('=') else {
            continue;
        };
        match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(quoted) => words.push(quoted.to_string()),
            None => words.push(decode_hex(value)?),
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// Wrappers that run the command after them, each with its options that
/// take a value (`sudo -u www-data tail`, `nice -n 10 tar`).
const WRAPPERS: &[(&str, &[&str])] = &[
    (
        "sudo",
        &["-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D"],
    ),
    ("env", &["-u", "-C"]),
    ("nohup", &[]),
    ("time", &["-o", "-f"]),
    ("nice", &["-n"]),
    ("ionice", &["-c", "-n", "-p"]),
];

/// The command with its program's folder left out and a leading wrapper
/// (`sudo`, `env`, `nohup`, `time`, `nice`, `ionice`) and its options
/// dropped: `/usr/bin/vim x` is `vim x`.
pub fn normalized(command: &str) -> &str {
    let mut rest = command.trim();
    loop {
        let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let program = first.rsplit('/').next().unwrap_or(first);
        if let Some((_, with_value)) = WRAPPERS.iter().find(|(name, _)| *name == program)
            && !tail.is_empty()
        {
            rest = tail.trim_start();
            while let Some((option, after)) = rest.split_once(' ') {
                if !option.starts_with('-') {
                    break;
                }
                rest = after.trim_start();
                if with_value.contains(&option) {
                    rest = rest
                        .split_once(' ')
                        .map_or("", |(_, after)| after.trim_start());
                }
            }
            continue;
        }
        let skip = first.len() - program.len();
        return &rest[skip..];
    }
}

/// The class of `command` by [`COMMAND_CLASSES`], with the row's name.
pub fn classify_command(command: &str) -> (CommandClass, &'static str) {
    match COMPILED.matches(normalized(command)).iter().next() {
        Some(index) => {
            let rule = &COMMAND_CLASSES[index];
            let name = match rule.class {
                CommandClass::Change => rule.name,
                CommandClass::Action(class) => class.rule(),
            };
            (rule.class, name)
        }
        None => (
            CommandClass::Action(ActionClass::Unclassified),
            UNCLASSIFIED_RULE,
        ),
    }
}

/// What a command looked at or touched, for the sentence about a run of
/// them (`looked at the database`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    Database,
    WebServer,
    Network,
    Processes,
    Disk,
    Configuration,
    Logs,
}

/// The topic table, in priority order: what a command names decides
/// (`tail /var/log/mysql/error.log` is about the database, not logs).
pub const COMMAND_TOPICS: &[(Topic, &str, &str)] = &[
    (
        Topic::Database,
        r"(?i)\b(?:mysql\w*|mariadb\w*|postgres\w*|psql|pg_\w+|redis\S*|mongo\w*|memcache\w*|elasticsearch|cassandra|nodetool)\b",
        "tail -n 200 /var/log/mysql/error.log",
    ),
    (
        Topic::WebServer,
        r"(?i)\b(?:apache2?\w*|apachectl|httpd|nginx|haproxy|envoy|caddy|traefik|php\S*-fpm\S*|varnish\w*|lighttpd)\b",
        "systemctl restart apache2",
    ),
    (
        Topic::Network,
        r"^(?:ping6?|traceroute|tracepath|mtr|dig|nslookup|host|ip|ifconfig|ethtool|tcpdump|iptables|nft|conntrack|ss|netstat|nc|telnet|curl|wget)\b",
        "tcpdump -ni eth0 -c 20000 tcp port 443",
    ),
    (
        Topic::Processes,
        r"^(?:ps|pstree|top|htop|atop|free|vmstat|mpstat|pidstat|uptime|kill|killall|pkill|strace|ltrace|perf|gdb|jstack|jmap|jcmd|dmesg)\b",
        "free -m",
    ),
    (
        Topic::Disk,
        r"^(?:df|du|lsblk|mount|iostat|fstrim)\b",
        "df -h",
    ),
    (
        Topic::Configuration,
        r"(?:/etc/|\.conf\b|^git\b|^diff\b)",
        "git -C /srv/app log -p -1",
    ),
    (
        Topic::Logs,
        r"(?:/var/log/|^journalctl\b)",
        "journalctl -u app -n 100",
    ),
];

static TOPICS: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new(COMMAND_TOPICS.iter().map(|(_, pattern, _)| *pattern))
        .unwrap_or_else(|_| regex::RegexSet::empty())
});

/// What `command` is about, by [`COMMAND_TOPICS`].
pub fn topic(command: &str) -> Option<Topic> {
    TOPICS
        .matches(normalized(command))
        .iter()
        .next()
        .map(|index| COMMAND_TOPICS[index].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_compiles_and_classifies_its_example() {
        assert_eq!(COMPILED.len(), COMMAND_CLASSES.len(), "the table compiles");
        for rule in COMMAND_CLASSES {
            let (class, _) = classify_command(rule.example);
            assert_eq!(class, rule.class, "{}: {}", rule.name, rule.example);
        }
        assert_eq!(TOPICS.len(), COMMAND_TOPICS.len(), "the topics compile");
        for (expected, _, example) in COMMAND_TOPICS {
            assert_eq!(topic(example), Some(*expected), "{example}");
        }
    }

    #[test]
    fn commands_are_classified_by_what_they_do() {
        use ActionClass::*;
        let change = CommandClass::Change;
        let action = CommandClass::Action;
        let cases = [
            (
                "an edit of the served config",
                "/usr/bin/vim /etc/apache2/sites-available/shop.conf",
                change,
            ),
            (
                "a restore of a config file",
                "/usr/bin/cp /etc/shop-app/app.conf.2023.11.2 /etc/shop-app/app.conf",
                change,
            ),
            (
                "a sed -i of a config",
                "sed -i s/on/off/ /etc/nginx/nginx.conf",
                change,
            ),
            ("a package install", "apt-get install -y nginx", change),
            ("a playbook run", "ansible-playbook site.yml", change),
            (
                "a restart is a mitigation",
                "/usr/bin/systemctl restart apache2",
                action(Mitigation),
            ),
            (
                "a reload is a mitigation",
                "nginx -s reload",
                action(Mitigation),
            ),
            ("a kill is a mitigation", "kill -9 4242", action(Mitigation)),
            (
                "a status is a look",
                "/usr/bin/systemctl status mysql",
                action(Investigation),
            ),
            (
                "mysqladmin is a look",
                "/usr/bin/mysqladmin processlist",
                action(Investigation),
            ),
            (
                "a tail is a look",
                "/usr/bin/tail -n 200 /var/log/mysql/error.log",
                action(Investigation),
            ),
            (
                "reading a config is a look",
                "cat /etc/nginx/nginx.conf",
                action(Investigation),
            ),
            (
                "git log is a look",
                "/usr/bin/git -C /etc/apache2 log -p -1 sites-available/shop.conf",
                action(Investigation),
            ),
            (
                "configtest changes nothing",
                "/usr/sbin/apachectl configtest",
                action(Investigation),
            ),
            (
                "sed without -i only reads",
                "sed -n 1,10p /etc/nginx/nginx.conf",
                action(Investigation),
            ),
            (
                "apt update changes nothing served",
                "apt-get update",
                action(Unclassified),
            ),
            (
                "an unknown tool is not guessed",
                "/opt/tools/fixit --now",
                action(Unclassified),
            ),
            (
                "sudo inside sudo",
                "sudo -u www-data /usr/bin/tail /var/log/nginx/error.log",
                action(Investigation),
            ),
        ];
        for (name, command, expected) in cases {
            assert_eq!(classify_command(command).0, expected, "{name}");
        }
    }

    #[test]
    fn records_name_who_where_and_what() {
        /// Source, actor, folder, command.
        type Record = (&'static str, Actor, Option<&'static str>, &'static str);
        let cases: [(&str, &str, Option<Record>); 8] = [
            (
                "sudo",
                "sudo:     dev : TTY=pts/1 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/vim /etc/apache2/sites-available/shop.conf",
                Some((
                    "sudo",
                    Actor::User("dev".into()),
                    Some("/etc/apache2"),
                    "/usr/bin/vim /etc/apache2/sites-available/shop.conf",
                )),
            ),
            (
                "sudo without a tty",
                "sudo: oncall : PWD=/home/oncall ; USER=root ; COMMAND=/usr/bin/systemctl status mysql",
                Some((
                    "sudo",
                    Actor::User("oncall".into()),
                    Some("/home/oncall"),
                    "/usr/bin/systemctl status mysql",
                )),
            ),
            (
                "a refused sudo ran nothing",
                "sudo: mallory : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash",
                None,
            ),
            (
                "bash history",
                "-bash: HISTORY: PID=4242 UID=1001 systemctl status mysql",
                Some((
                    "bash history",
                    Actor::Uid("1001".into()),
                    None,
                    "systemctl status mysql",
                )),
            ),
            (
                "snoopy",
                "snoopy: [login:oncall ssh:(10.0.0.5 50000 10.0.0.9 22) sid:42 tty:/dev/pts/0 (1001/oncall) uid:oncall(1001)/oncall(1001) cwd:/home/oncall]: mysqladmin processlist",
                Some((
                    "snoopy",
                    Actor::User("oncall".into()),
                    Some("/home/oncall"),
                    "mysqladmin processlist",
                )),
            ),
            (
                "auditd USER_CMD in hex",
                r#"audisp-syslog: type=USER_CMD msg=audit(1648395341.000:812): pid=51063 uid=1001 auid=1001 ses=3 msg='cwd="/home/oncall" cmd=73797374656D63746C20737461747573206D7973716C terminal=pts/0 res=success'"#,
                Some((
                    "auditd",
                    Actor::Uid("1001".into()),
                    Some("/home/oncall"),
                    "systemctl status mysql",
                )),
            ),
            (
                "auditd EXECVE",
                r#"audisp-syslog: type=EXECVE msg=audit(1648395341.000:813): argc=3 a0="systemctl" a1="status" a2="mysql""#,
                Some(("auditd", Actor::Unknown, None, "systemctl status mysql")),
            ),
            (
                "a plain line",
                "sshd: Accepted publickey for deploy from 10.0.0.1",
                None,
            ),
        ];
        for (name, text, expected) in cases {
            let got =
                parse_record(text).map(|r| (r.source, r.actor, r.cwd, r.command.into_owned()));
            let expected = expected.map(|(s, a, c, cmd)| (s, a, c, cmd.to_string()));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn topics_follow_what_the_command_names() {
        let cases = [
            (
                "a database status",
                "/usr/bin/systemctl status mysql",
                Some(Topic::Database),
            ),
            (
                "the database's log",
                "tail -n 200 /var/log/mysql/error.log",
                Some(Topic::Database),
            ),
            (
                "the web server's config history",
                "git -C /etc/apache2 log -p -1",
                Some(Topic::WebServer),
            ),
            (
                "a capture",
                "/usr/sbin/tcpdump -ni eth0",
                Some(Topic::Network),
            ),
            (
                "the app's config",
                "git -C /srv/app diff",
                Some(Topic::Configuration),
            ),
            ("nothing known", "/opt/tools/fixit", None),
            (
                "a systemd line names the web server",
                "systemd: Reloading The Apache HTTP Server...",
                Some(Topic::WebServer),
            ),
            (
                "an ingress controller is nginx",
                "ingress-nginx-controller: \"Backend successfully reloaded\"",
                Some(Topic::WebServer),
            ),
        ];
        for (name, command, expected) in cases {
            assert_eq!(topic(command), expected, "{name}");
        }
    }
}
