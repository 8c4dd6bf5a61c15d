//! The page at `/` in a real headless Chromium: log in (cookie mode), see `/me`, refresh, log
//! out, and the page's JavaScript never sees a token (`document.cookie` stays empty: both
//! cookies are HttpOnly).

use std::time::Duration;

use headless_chrome::{Browser, LaunchOptions};

use crate::support::Server;

pub const TESTS: &[(&str, fn())] = &[(
    "browser::the_demo_page_logs_in_refreshes_and_logs_out",
    page,
)];

fn page() {
    let s = Server::start(&[]);
    let profile = crate::support::TempDir::new("chromium");
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some("/usr/bin/chromium".into()))
            .headless(true)
            .sandbox(false)
            .user_data_dir(Some(profile.0.clone()))
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    )
    .expect("launch chromium");
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    tab.navigate_to(&s.base)
        .unwrap()
        .wait_until_navigated()
        .unwrap();

    let status = |want: &str| {
        let ok = crate::support::eventually(Duration::from_secs(20), || {
            tab.find_element("#status")
                .and_then(|e| e.get_inner_text())
                .is_ok_and(|t| t == want)
        });
        let out = tab
            .find_element("#out")
            .and_then(|e| e.get_inner_text())
            .unwrap_or_default();
        assert!(
            ok.is_some(),
            "status never became {want:?}; last response:\n{out}"
        );
        out
    };
    let cookie = || {
        tab.evaluate("document.cookie", false)
            .unwrap()
            .value
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };

    tab.find_element("#password").unwrap().click().unwrap();
    tab.type_str("alice-password").unwrap();
    tab.find_element("#login").unwrap().click().unwrap();
    let out = status("logged in");
    assert!(
        out.contains("-> 200") && out.contains("csrf_token"),
        "{out}"
    );
    assert_eq!(cookie(), "", "the page can read no token");

    tab.find_element("#me").unwrap().click().unwrap();
    let out = status("logged in as alice");
    assert!(out.contains("\"sub\": \"alice\""), "{out}");

    tab.find_element("#refresh").unwrap().click().unwrap();
    let out = status("refreshed");
    assert!(out.contains("POST /refresh -> 200"), "{out}");
    assert_eq!(cookie(), "");

    tab.find_element("#me").unwrap().click().unwrap();
    status("logged in as alice");

    tab.find_element("#logout").unwrap().click().unwrap();
    let out = status("logged out");
    assert!(out.contains("POST /logout -> 204"), "{out}");

    // After the logout the browser holds no session cookie: /me is refused.
    tab.find_element("#me").unwrap().click().unwrap();
    let ok = crate::support::eventually(Duration::from_secs(20), || {
        tab.find_element("#out")
            .and_then(|e| e.get_inner_text())
            .is_ok_and(|t| t.contains("GET /me -> 401"))
    });
    assert!(ok.is_some(), "GET /me after logout is 401");
}
