//! Log text is data, never Markdown: a report over logs whose paths, error
//! messages, change lines and commands carry every hostile form (links,
//! images, HTML, backticks, pipes, emphasis, entities, line-start markers)
//! renders each excerpt as the characters it is, in every section, and has
//! no live link, image or HTML anywhere.

use pulldown_cmark::{Event, Options, Parser, Tag};

use super::handmade::{one_incident, write_log};
use super::support::{postmortem, scratch, write};

/// The hostile excerpts, each planted in one place of the logs below.
const LINK: &str = "[link](javascript:alert(1))";
const IMAGE: &str = "![img](http://x/y.png)";
const SCRIPT: &str = "<script>alert(1)</script>";
const TICKS: &str = "a `tick` and ``two``";
const PIPES: &str = "a | b";
const EMPHASIS: &str = "*bold* __strong__";
const ENTITY: &str = "&amp; &#x3C;i>";

/// The Markdown's live links, images and HTML, and the text a reader sees.
fn live_and_seen(markdown: &str) -> (Vec<String>, String) {
    let mut live = Vec::new();
    let mut seen = String::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_GFM;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Text(t) | Event::Code(t) => seen.push_str(&t),
            Event::SoftBreak | Event::HardBreak => seen.push('\n'),
            Event::End(_) => seen.push(' '),
            Event::Html(h) | Event::InlineHtml(h) => live.push(format!("HTML {h}")),
            Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. } | Tag::HtmlBlock)) => {
                live.push(format!("{tag:?}"))
            }
            _ => {}
        }
    }
    (live, seen)
}

#[test]
fn hostile_log_text_is_inert_in_every_section() {
    let dir = scratch();
    let access = write_log(dir.path(), &one_incident());
    // The incident is 12:00-12:30 +01:00 on 2024-05-07: a change before it,
    // error lines and commands during it, a restart at its end.
    let syslog = [
        format!(
            "2024-05-07T11:50:00+01:00 web1 sudo[7]:     ops : TTY=pts/0 ; PWD=/etc/nginx ; USER=root ; COMMAND=/usr/bin/systemctl reload nginx {LINK}"
        ),
        format!("2024-05-07T11:50:01+01:00 web1 systemd[1]: Reloading nginx.service {IMAGE} {SCRIPT}"),
        format!(
            "2024-05-07T12:10:00+01:00 web1 sudo[8]:     ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/tail /var/log/nginx/error.log {TICKS} {PIPES}"
        ),
        format!("2024-05-07T12:29:58+01:00 web1 systemd[1]: Stopping nginx.service {EMPHASIS} {ENTITY}"),
    ]
    .join("\n");
    let syslog = write(dir.path(), "syslog", &format!("{syslog}\n"));
    let error_log = (0..20)
        .map(|i| {
            format!(
                "2024/05/07 12:{:02}:05 [error] 99#0: *{i} upstream failed {LINK} {IMAGE} {SCRIPT} {TICKS} {PIPES} {EMPHASIS} {ENTITY}, client: 10.0.0.1\n",
                i
            )
        })
        .collect::<String>();
    let error_log = write(dir.path(), "error.log", &error_log);
    let output = postmortem()
        .args(["report", "--quiet"])
        .args([&access, &syslog, &error_log])
        .output()
        .expect("run postmortem");
    assert!(output.status.success(), "{output:?}");
    let markdown = String::from_utf8(output.stdout).expect("utf-8 report");

    let (live, seen) = live_and_seen(&markdown);
    assert_eq!(
        live,
        Vec::<String>::new(),
        "no live construct in:\n{markdown}"
    );
    // Each excerpt reached the report and reads as the characters it is.
    let cases = [
        ("link in a change command", LINK),
        ("image in a change line", IMAGE),
        ("script tag", SCRIPT),
        ("backticks in a command", TICKS),
        ("pipes in a command", PIPES),
        ("emphasis in the resolution", EMPHASIS),
        ("entities in the resolution", ENTITY),
    ];
    for (name, excerpt) in cases {
        assert!(
            seen.contains(excerpt),
            "{name}: {excerpt:?} not seen in:\n{seen}"
        );
    }
}
