//! The HTML of the consent flow: login form, consent page with the site picker, and the error
//! page shown when the request cannot be redirected back (unknown app or redirect URI). Plain
//! server-rendered forms, no JavaScript, so a browser, curl or a test client can drive them.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// One site the user may pick on the consent page.
pub(super) struct SiteChoice {
    pub cloud_id: String,
    pub name: String,
    pub url: String,
}

/// What the login page shows.
pub(super) struct LoginPage<'a> {
    pub pending_id: &'a str,
    pub form_token: &'a str,
    pub app_name: &'a str,
    pub login_hint: &'a str,
    pub error: Option<&'a str>,
    /// Logins of the active accounts, listed as a convenience of the sandbox.
    pub known_logins: Vec<String>,
}

/// What the consent page shows.
pub(super) struct ConsentPage<'a> {
    pub pending_id: &'a str,
    pub form_token: &'a str,
    pub app_name: &'a str,
    pub user_name: &'a str,
    pub user_login: &'a str,
    pub scopes: &'a [String],
    pub sites: Vec<SiteChoice>,
    pub error: Option<&'a str>,
}

/// Escapes text for HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Atlassian (jiraflow simulator)</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n<p class=\"brand\">Atlassian <span>simulator</span></p>\n{body}</main>\n\
         </body>\n</html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    // The pages carry form tokens; keep them out of caches.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#172b4d;margin:0}\
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:4px;\
box-shadow:0 1px 3px rgba(9,30,66,.25)}.brand{color:#0052cc;font-weight:600}\
.brand span{color:#6b778c;font-weight:400}label{display:block;margin:.75rem 0 .25rem}\
input,select{width:100%;padding:.5rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;\
padding:.5rem 1rem}.error{color:#bf2600}.hint{color:#6b778c;font-size:.85rem}\
li{margin:.4rem 0}code{font-size:.85rem}";

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
        escape(value)
    )
}

fn error_line(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default()
}

/// The login form (step one of the consent flow).
pub(super) fn login(page: &LoginPage<'_>, status: StatusCode) -> Response {
    let hint = if page.known_logins.is_empty() {
        String::new()
    } else {
        let logins: Vec<String> = page
            .known_logins
            .iter()
            .map(|l| format!("<code>{}</code>", escape(l)))
            .collect();
        format!(
            "<p class=\"hint\">Simulator accounts: {}.</p>\n",
            logins.join(", ")
        )
    };
    let body = format!(
        "<h1>Log in to continue</h1>\n<p>to <strong>{app}</strong></p>\n{error}\
         <form method=\"post\" action=\"/authorize/login\">\n{pending}{token}\
         <label for=\"login\">Email</label>\n\
         <input id=\"login\" name=\"login\" type=\"text\" autocomplete=\"username\" value=\"{hint_value}\" required>\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Log in</button>\n</form>\n{hint}",
        app = escape(page.app_name),
        error = error_line(page.error),
        pending = hidden("pending", page.pending_id),
        token = hidden("form_token", page.form_token),
        hint_value = escape(page.login_hint),
    );
    document(status, "Log in to continue", &body)
}

/// What the consent page says about a scope (Atlassian's consent-screen wording, shortened).
fn scope_description(scope: &str) -> &'static str {
    match scope {
        "read:jira-user" => {
            "View user information in Jira that you have access to, including usernames, email addresses, and avatars."
        }
        "read:jira-work" => {
            "Read project and issue data, search for issues, and objects associated with issues like attachments and worklogs."
        }
        "write:jira-work" => {
            "Create and edit issues in Jira, post comments as you, create worklogs, and delete issues."
        }
        "manage:jira-project" => {
            "Create and edit project settings and create new project-level objects (for example, versions and components)."
        }
        "manage:jira-configuration" => {
            "Take Jira administration actions (for example, create projects and custom fields, view workflows, manage issue link types)."
        }
        "manage:jira-webhook" => "Register and manage Jira webhooks.",
        "offline_access" => {
            "Keep access to the data you have given it access to, even when you are not using the app."
        }
        _ => "Access your data in Atlassian products.",
    }
}

/// The consent page: app, scopes, site picker, Accept and Deny.
pub(super) fn consent(page: &ConsentPage<'_>, status: StatusCode) -> Response {
    let scopes: String = page
        .scopes
        .iter()
        .map(|s| {
            format!(
                "<li><code>{}</code><br>{}</li>\n",
                escape(s),
                escape(scope_description(s))
            )
        })
        .collect();
    let picker = match page.sites.as_slice() {
        [] => "<p class=\"error\">Your account has no access to any site this app can use.</p>\n"
            .to_owned(),
        [only] => format!(
            "<p>Use app on <strong>{}</strong> ({})</p>\n{}",
            escape(&only.name),
            escape(&only.url),
            hidden("site", &only.cloud_id)
        ),
        several => {
            let options: String = several
                .iter()
                .map(|s| {
                    format!(
                        "<option value=\"{}\">{} ({})</option>\n",
                        escape(&s.cloud_id),
                        escape(&s.name),
                        escape(&s.url)
                    )
                })
                .collect();
            format!(
                "<label for=\"site\">Use app on</label>\n<select id=\"site\" name=\"site\" required>\n\
                 <option value=\"\">Choose a site</option>\n{options}</select>\n"
            )
        }
    };
    let body = format!(
        "<h1>{app} is requesting access to your Atlassian account</h1>\n\
         <p>Signed in as <strong>{user}</strong> ({login})</p>\n{error}\
         <h2>{app} would like to:</h2>\n<ul>\n{scopes}</ul>\n\
         <form method=\"post\" action=\"/authorize/consent\">\n{pending}{token}{picker}\
         <button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\n\
         </form>\n",
        app = escape(page.app_name),
        user = escape(page.user_name),
        login = escape(page.user_login),
        error = error_line(page.error),
        pending = hidden("pending", page.pending_id),
        token = hidden("form_token", page.form_token),
    );
    document(status, "Authorize app", &body)
}

/// The error page for requests that must not be redirected (unknown app, unregistered redirect
/// URI, expired consent session).
pub(super) fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<h1>{}</h1>\n<p class=\"error\">{}</p>\n\
         <p class=\"hint\">Go back to the app and start the connection again.</p>\n",
        escape(title),
        escape(detail)
    );
    document(status, title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
