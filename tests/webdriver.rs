//! The browser tests' driver: chromedriver on loopback, spoken to with `fantoccini` (a
//! maintained WebDriver client), behind a small blocking API so the tests read as steps.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Where chromedriver is, if installed: `$CHROMEDRIVER`, else `chromedriver` on the `PATH`.
pub fn chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMEDRIVER").map(PathBuf::from) {
        return p.exists().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.exists())
    })
}

/// The chromium binary beside chromedriver (Debian: /usr/bin/chromium).
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| {
        [
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("chromium")
        .to_string()
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Chromium's own command to emulate a device's screen (`/goog/cdp/execute`), which the
/// WebDriver standard has no word for.
#[derive(Debug)]
struct DeviceMetrics {
    width: u32,
    height: u32,
    mobile: bool,
}

impl WebDriverCompatibleCommand for DeviceMetrics {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
            "width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": self.mobile,
        }});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A chromedriver process and one headless chromium session, both ended on drop.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium with a fresh profile.
    pub fn start(driver: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium(), "args": args}),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = runtime
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .expect("new WebDriver session");
        Browser {
            runtime,
            client: Some(client),
            driver: child,
            _profile: profile,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Opens a URL and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.runtime
            .block_on(self.client().current_url())
            .map(|u| u.to_string())
            .expect("current URL")
    }

    /// The page's HTML as the browser now has it.
    pub fn source(&self) -> String {
        self.runtime
            .block_on(self.client().source())
            .expect("page source")
    }

    /// The first element matching a CSS selector, if any (its WebDriver reference).
    pub fn try_find(&self, css: &str) -> Option<String> {
        self.runtime
            .block_on(self.client().find(Locator::Css(css)))
            .ok()
            .map(|e| e.element_id().to_string())
    }

    /// The first element matching a CSS selector; panics with the page when there is none.
    fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self.runtime.block_on(self.client().find(Locator::Css(css))) {
            Ok(e) => e,
            Err(_) => panic!("no element {css:?} on {}:\n{}", self.url(), self.source()),
        }
    }

    /// Clicks an element (following a link or submitting a form waits for the next page).
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.runtime
            .block_on(element.click())
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits (up to 10 s) until the URL contains `fragment`: a click that submits a form or
    /// follows a link may return before the next page has replaced this one.
    pub fn wait_for_url(&self, fragment: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.url().contains(fragment) {
            assert!(
                Instant::now() < deadline,
                "never reached a URL with {fragment:?}; at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wait_for_load();
    }

    /// Waits (up to 10 s) for an element to appear.
    pub fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.try_find(css).is_none() {
            assert!(
                Instant::now() < deadline,
                "no {css:?} appeared on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.runtime
            .block_on(self.client().execute(script, args))
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Waits until the current document has loaded.
    fn wait_for_load(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self.execute("return document.readyState", Vec::new());
            if state == "complete" || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Replaces the text of an input.
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.runtime
            .block_on(async {
                element.clear().await?;
                element.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("fill {css}: {e}"));
    }

    /// An element's visible text.
    pub fn text(&self, css: &str) -> String {
        let element = self.element(css);
        self.runtime
            .block_on(element.text())
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The visible text of every element matching a CSS selector, one per line.
    pub fn texts(&self, css: &str) -> String {
        self.execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText).join('\\n');",
            vec![json!(css)],
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Sets a form control's value directly (date inputs take typed keys in the browser's
    /// locale, which a test should not depend on).
    pub fn set_value(&self, css: &str, value: &str) {
        self.execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![json!(css), json!(value)],
        );
    }

    /// The value of the cookie `name`, if the browser holds one for the page's site.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.runtime
            .block_on(self.client().get_named_cookie(name))
            .ok()
            .map(|c| c.value().to_string())
    }

    /// Emulates a viewport of this size (a phone is 390×844, with touch and mobile layout).
    pub fn viewport(&self, width: u32, height: u32, mobile: bool) {
        let command = DeviceMetrics {
            width,
            height,
            mobile,
        };
        self.runtime
            .block_on(self.client().issue_cmd(command))
            .expect("emulate the viewport");
    }

    /// Saves a PNG of the viewport to `dir/name.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) {
        let png = self
            .runtime
            .block_on(self.client().screenshot())
            .expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
