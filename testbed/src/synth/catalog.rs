//! The vocabulary of the generated traffic: a shop's pages, assets and API
//! endpoints, the referers that bring people to it, and user agents of real
//! browsers, apps, crawlers and monitors as they looked on a given date.
//!
//! Everything here is built from fixed word lists and a seeded generator, so
//! the same seed always names the same products, assets and browsers.

use rand::RngExt;
use rand_pcg::Pcg64;

use super::sampling::{chance, pick, zipf_index};

/// Products in a shop's catalogue; a few hundred make plausible path variety.
const PRODUCT_COUNT: usize = 420;
/// Product images per product (`/images/products/<id>-<n>.webp`).
const IMAGES_PER_PRODUCT: u32 = 4;
/// Blog posts in the catalogue.
const BLOG_POST_COUNT: usize = 36;

const ADJECTIVES: [&str; 28] = [
    "merino",
    "linen",
    "ceramic",
    "walnut",
    "organic",
    "recycled",
    "classic",
    "slim",
    "oversized",
    "waterproof",
    "vintage",
    "handmade",
    "brushed",
    "lightweight",
    "quilted",
    "striped",
    "suede",
    "cotton",
    "bamboo",
    "copper",
    "matte",
    "woven",
    "knitted",
    "insulated",
    "foldable",
    "leather",
    "stoneware",
    "enamel",
];
const NOUNS: [&str; 30] = [
    "sweater", "shirt", "mug", "teapot", "backpack", "scarf", "jacket", "lamp", "blanket",
    "sneaker", "wallet", "notebook", "bottle", "candle", "cushion", "beanie", "tote", "apron",
    "skillet", "planter", "watch", "belt", "hoodie", "dress", "chino", "parka", "kettle", "vase",
    "glove", "rug",
];
const COLOURS: [&str; 12] = [
    "black", "navy", "olive", "sand", "grey", "rust", "white", "forest", "charcoal", "ochre",
    "indigo", "blush",
];
/// Category slugs of the shop.
pub const CATEGORIES: [&str; 11] = [
    "women",
    "men",
    "kids",
    "home",
    "kitchen",
    "outdoor",
    "sale",
    "new-arrivals",
    "accessories",
    "shoes",
    "gifts",
];
/// Words people type into the search box.
const SEARCH_WORDS: [&str; 24] = [
    "wool",
    "gift",
    "black",
    "sale",
    "mug",
    "jacket",
    "winter",
    "kids",
    "linen",
    "shoes",
    "lamp",
    "size",
    "bag",
    "red",
    "coffee",
    "set",
    "men",
    "women",
    "blue",
    "waterproof",
    "leather",
    "vegan",
    "xl",
    "summer",
];
const BLOG_WORDS: [&str; 20] = [
    "care",
    "guide",
    "how",
    "to",
    "wash",
    "wool",
    "choose",
    "the",
    "right",
    "size",
    "our",
    "new",
    "autumn",
    "collection",
    "behind",
    "seams",
    "makers",
    "sustainable",
    "packaging",
    "story",
];

/// Informational pages that exist on every shop.
const STATIC_PAGES: [&str; 8] = [
    "/about",
    "/contact",
    "/help/shipping",
    "/help/returns",
    "/help/size-guide",
    "/stores",
    "/privacy",
    "/terms",
];

/// Paths browsers ask for on their own and the shop does not have.
pub const MISSING_BROWSER_PATHS: [&str; 3] = [
    "/apple-touch-icon.png",
    "/apple-touch-icon-precomposed.png",
    "/.well-known/traffic-advice",
];

/// External referers of landing pages with their weights; `None` is a
/// direct visit (the log prints `-`).
const LANDING_REFERERS: [(Option<&str>, f64); 10] = [
    (None, 30.0),
    (Some("https://www.google.com/"), 38.0),
    (Some("https://www.bing.com/"), 5.0),
    (Some("https://duckduckgo.com/"), 3.0),
    (Some("https://www.facebook.com/"), 5.0),
    (Some("https://l.instagram.com/"), 4.0),
    (Some("https://t.co/"), 2.0),
    (Some("android-app://com.google.android.gm/"), 4.0),
    (Some("https://www.pinterest.com/"), 3.0),
    (Some("https://news.ycombinator.com/"), 1.0),
];

/// A product of the catalogue.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: u32,
    pub slug: String,
}

/// One shop: its host name, catalogue and asset fingerprints.
#[derive(Debug, Clone)]
pub struct Site {
    pub host: &'static str,
    pub products: Vec<Product>,
    pub blog_posts: Vec<String>,
    /// `/static/css/main.<hash>.css` and friends, loaded on a first page view.
    pub core_assets: Vec<String>,
}

impl Site {
    /// A catalogue for `host`, named from `rng`.
    pub fn build(host: &'static str, rng: &mut Pcg64) -> Site {
        let mut products = Vec::with_capacity(PRODUCT_COUNT);
        let mut next_id: u32 = rng.random_range(1_000..2_000);
        for _ in 0..PRODUCT_COUNT {
            next_id += rng.random_range(1..40);
            let slug = format!(
                "{}-{}-{}",
                pick(rng, &ADJECTIVES),
                pick(rng, &NOUNS),
                pick(rng, &COLOURS)
            );
            products.push(Product { id: next_id, slug });
        }
        let blog_posts = (0..BLOG_POST_COUNT)
            .map(|_| {
                let words = rng.random_range(3..7);
                let title: Vec<&str> = (0..words).map(|_| pick(rng, &BLOG_WORDS)).collect();
                format!("/blog/{}", title.join("-"))
            })
            .collect();
        let mut fingerprint = || format!("{:08x}", rng.random::<u32>());
        let core_assets = vec![
            format!("/static/css/main.{}.css", fingerprint()),
            format!("/static/js/vendor.{}.js", fingerprint()),
            format!("/static/js/app.{}.js", fingerprint()),
            "/static/fonts/inter-var.woff2".to_string(),
        ];
        Site {
            host,
            products,
            blog_posts,
            core_assets,
        }
    }

    /// A product, popular ones more often.
    pub fn popular_product(&self, rng: &mut Pcg64) -> &Product {
        &self.products[zipf_index(rng, self.products.len())]
    }

    /// `/products/<slug>-<id>`.
    pub fn product_path(product: &Product) -> String {
        format!("/products/{}-{}", product.slug, product.id)
    }

    /// A product image path.
    pub fn product_image(&self, product: &Product, rng: &mut Pcg64) -> String {
        format!(
            "/images/products/{}-{}.webp",
            product.id,
            rng.random_range(1..=IMAGES_PER_PRODUCT)
        )
    }

    /// `https://<host><path>`: how browsers send an internal referer.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.host, path)
    }

    /// A search query path.
    pub fn search_path(rng: &mut Pcg64) -> String {
        let first = pick(rng, &SEARCH_WORDS);
        if chance(rng, 0.4) {
            format!("/search?q={}+{}", first, pick(rng, &SEARCH_WORDS))
        } else {
            format!("/search?q={first}")
        }
    }

    /// The query string of an API search.
    pub fn search_words(rng: &mut Pcg64) -> &'static str {
        pick(rng, &SEARCH_WORDS)
    }

    /// A category listing page, sometimes a later page of it.
    pub fn category_path(rng: &mut Pcg64) -> String {
        let category = pick(rng, &CATEGORIES);
        if chance(rng, 0.2) {
            format!("/category/{category}?page={}", rng.random_range(2..6))
        } else {
            format!("/category/{category}")
        }
    }

    /// An informational page.
    pub fn info_path(rng: &mut Pcg64) -> &'static str {
        pick(rng, &STATIC_PAGES)
    }

    /// A blog post.
    pub fn blog_path(&self, rng: &mut Pcg64) -> String {
        self.blog_posts[rng.random_range(0..self.blog_posts.len())].clone()
    }
}

/// The referer of a landing page, `None` for a direct visit.
pub fn landing_referer(rng: &mut Pcg64) -> Option<&'static str> {
    let total: f64 = LANDING_REFERERS.iter().map(|(_, weight)| weight).sum();
    let mut target = rng.random_range(0.0..total);
    for (referer, weight) in LANDING_REFERERS {
        if target < weight {
            return referer;
        }
        target -= weight;
    }
    None
}

/// What kind of client a user agent belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A person with a desktop browser.
    DesktopBrowser,
    /// A person with a phone or tablet browser.
    MobileBrowser,
    /// A person with the shop's native app (API calls only).
    App,
    /// A search-engine or SEO crawler.
    Crawler,
    /// An uptime monitor probing the home page.
    Monitor,
}

/// Days since 2022-02-01, when Chrome 98 and (a week later) Firefox 97 came out.
fn days_since_reference(day: i64) -> i64 {
    day - super::clock::days_from_civil(2022, 2, 1)
}

/// The current Chrome major version on `day` (days since the epoch): a new
/// major every four weeks or so from Chrome 98 on 2022-02-01.
pub fn chrome_major(day: i64) -> u32 {
    98 + (days_since_reference(day).max(0) as f64 / 30.7) as u32
}

/// The current Firefox major version on `day` (Firefox 97 on 2022-02-08).
pub fn firefox_major(day: i64) -> u32 {
    97 + ((days_since_reference(day) - 7).max(0) as f64 / 28.5) as u32
}

/// The current Safari / iOS major version on `day` (15 in early 2022, a new
/// major each September).
fn safari_major(day: i64) -> u32 {
    let (year, month, _) = super::clock::civil_from_days(day);
    let years_since = (year - 2022).max(0) as u32;
    15 + years_since + u32::from(month >= 9)
}

/// The Chrome version string: full build numbers before the user-agent
/// reduction (Chrome 110 and later print `.0.0.0`).
fn chrome_version(major: u32, rng: &mut Pcg64) -> String {
    if major >= 110 {
        format!("{major}.0.0.0")
    } else {
        let build = 4_758 + (major.saturating_sub(98)) * 86;
        format!("{major}.0.{build}.{}", rng.random_range(60..140))
    }
}

/// A person's browser user agent as it looked on `day`, and its kind.
pub fn browser_user_agent(rng: &mut Pcg64, day: i64) -> (String, ClientKind) {
    // Users lag behind the newest release by a few versions.
    let chrome = chrome_major(day) - lag(rng);
    let firefox = firefox_major(day) - lag(rng);
    let safari = safari_major(day);
    let safari_minor = rng.random_range(0..4u32);
    let roll = rng.random_range(0..100u32);
    match roll {
        0..=23 => (
            format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Safari/537.36",
                chrome_version(chrome, rng)
            ),
            ClientKind::DesktopBrowser,
        ),
        24..=31 => (
            format!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Safari/537.36",
                chrome_version(chrome, rng)
            ),
            ClientKind::DesktopBrowser,
        ),
        32..=37 => {
            let version = chrome_version(chrome, rng);
            (
                format!(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version} Safari/537.36 Edg/{chrome}.0.{}.{}",
                    2_000 + rng.random_range(0..400u32),
                    rng.random_range(20..90u32)
                ),
                ClientKind::DesktopBrowser,
            )
        }
        38..=43 => (
            format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"
            ),
            ClientKind::DesktopBrowser,
        ),
        44..=46 => (
            format!(
                "Mozilla/5.0 (X11; Linux x86_64; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"
            ),
            ClientKind::DesktopBrowser,
        ),
        47..=48 => (
            format!(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Safari/537.36",
                chrome_version(chrome, rng)
            ),
            ClientKind::DesktopBrowser,
        ),
        49..=55 => (
            format!(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari}.{safari_minor} Safari/605.1.15"
            ),
            ClientKind::DesktopBrowser,
        ),
        56..=75 => {
            let patch = rng.random_range(0..3u32);
            let os = if patch == 0 {
                format!("{safari}_{safari_minor}")
            } else {
                format!("{safari}_{safari_minor}_{patch}")
            };
            let version = if patch == 0 {
                format!("{safari}.{safari_minor}")
            } else {
                format!("{safari}.{safari_minor}.{patch}")
            };
            let device = if chance(rng, 0.12) {
                "iPad; CPU OS"
            } else {
                "iPhone; CPU iPhone OS"
            };
            (
                format!(
                    "Mozilla/5.0 ({device} {os} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{version} Mobile/15E148 Safari/604.1"
                ),
                ClientKind::MobileBrowser,
            )
        }
        76..=91 => {
            let model = pick(
                rng,
                &[
                    "K", "K", "K", "SM-S911B", "SM-A536B", "Pixel 7", "SM-G991B", "M2101K6G",
                    "CPH2451", "SM-A146B",
                ],
            );
            let android = if model == "K" {
                10
            } else {
                rng.random_range(11..15u32)
            };
            (
                format!(
                    "Mozilla/5.0 (Linux; Android {android}; {model}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Mobile Safari/537.36",
                    chrome_version(chrome, rng)
                ),
                ClientKind::MobileBrowser,
            )
        }
        92..=94 => (
            format!(
                "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{}.0 Chrome/{}.0.0.0 Mobile Safari/537.36",
                19 + rng.random_range(0..5u32),
                chrome.saturating_sub(6)
            ),
            ClientKind::MobileBrowser,
        ),
        _ => app_user_agent(rng, day),
    }
}

/// How many versions behind the newest a browser is.
fn lag(rng: &mut Pcg64) -> u32 {
    match rng.random_range(0..10u32) {
        0..=5 => 0,
        6..=8 => 1,
        _ => rng.random_range(2..6),
    }
}

/// The shop's own mobile app (it calls the API only).
fn app_user_agent(rng: &mut Pcg64, day: i64) -> (String, ClientKind) {
    let app_minor = 8 + (days_since_reference(day).max(0) / 45) as u32;
    if chance(rng, 0.55) {
        let ios = safari_major(day);
        (
            format!(
                "ShopApp/4.{app_minor}.{} (iPhone; iOS {ios}.{}; Scale/3.00)",
                rng.random_range(0..3u32),
                rng.random_range(0..4u32)
            ),
            ClientKind::App,
        )
    } else {
        (
            format!(
                "ShopApp/4.{app_minor}.{} (Android {}; okhttp/4.{}.0)",
                rng.random_range(0..3u32),
                rng.random_range(11..15u32),
                rng.random_range(9..13u32)
            ),
            ClientKind::App,
        )
    }
}

/// A crawler: its user agent and the network its addresses come from.
#[derive(Debug, Clone, Copy)]
pub struct CrawlerIdentity {
    pub user_agent: &'static str,
    /// First three octets of the crawler's IPv4 network.
    pub network: [u8; 3],
    /// Relative share of crawl sessions.
    pub weight: f64,
}

/// Well-known crawlers with the networks they crawl from.
pub const CRAWLERS: [CrawlerIdentity; 7] = [
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        network: [66, 249, 66],
        weight: 30.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.199 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        network: [66, 249, 68],
        weight: 25.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        network: [40, 77, 167],
        weight: 15.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        network: [54, 36, 148],
        weight: 10.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        network: [213, 180, 203],
        weight: 6.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        network: [17, 241, 219],
        weight: 6.0,
    },
    CrawlerIdentity {
        user_agent: "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        network: [85, 208, 96],
        weight: 8.0,
    },
];

/// The user agent of the external uptime monitor.
pub const MONITOR_USER_AGENT: &str =
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)";
/// The monitor's probe addresses (it rotates between them).
pub const MONITOR_ADDRESSES: [[u8; 4]; 3] = [
    [69, 162, 124, 226],
    [216, 144, 250, 150],
    [63, 143, 42, 242],
];

/// Paths a vulnerability scanner tries; nearly all of them are 404s.
pub const SCANNER_PATHS: [&str; 40] = [
    "/wp-login.php",
    "/wp-admin/",
    "/xmlrpc.php",
    "/.env",
    "/.env.bak",
    "/.git/config",
    "/.git/HEAD",
    "/phpmyadmin/",
    "/pma/",
    "/admin/",
    "/admin/login.php",
    "/administrator/index.php",
    "/config.php",
    "/config.json",
    "/backup.zip",
    "/backup.sql",
    "/db.sql",
    "/dump.sql",
    "/server-status",
    "/cgi-bin/test.cgi",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/solr/admin/info/system",
    "/actuator/health",
    "/actuator/env",
    "/api/v1/pods",
    "/.aws/credentials",
    "/.DS_Store",
    "/owa/auth/logon.aspx",
    "/boaform/admin/formLogin",
    "/HNAP1/",
    "/console/",
    "/manager/html",
    "/jenkins/login",
    "/telescope/requests",
    "/debug/default/view",
    "/_profiler/phpinfo",
    "/info.php",
    "/phpinfo.php",
    "/test.php",
    "/shell.php",
];
