//! Which site and instance URLs jiraflow accepts: Atlassian's gateway, `*.atlassian.net` sites,
//! and (for sandbox apps only) URLs under the simulator's base. Checked before any request is made
//! to a user-supplied URL, so a typo or a hostile URL never receives a request carrying tokens.

use url::Url;

use crate::error::{OAuthError, OAuthResult};

/// Checks a user-supplied site or instance URL: an Atlassian gateway (`https://api.atlassian.com`)
/// or site (`https://*.atlassian.net`), or a URL under the configured sandbox base.
///
/// # Errors
/// `InvalidUrl` naming the reason.
pub fn validate_site_url(raw: &str, sandbox_base: Option<&Url>) -> OAuthResult<Url> {
    let bad = |reason: &str| OAuthError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("URLs with credentials are not accepted"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("the URL must not have a query or fragment"));
    }
    if let Some(base) = sandbox_base
        && url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.path().starts_with(base.path().trim_end_matches('/'))
    {
        return Ok(url);
    }
    if url.scheme() != "https" {
        return Err(bad(
            "Jira Cloud URLs use https (https://your-site.atlassian.net or https://api.atlassian.com)",
        ));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let is_site = host
        .strip_suffix(".atlassian.net")
        .is_some_and(|label| !label.is_empty() && !label.contains('.'));
    if host == "api.atlassian.com" || is_site {
        if url.port().is_some() {
            return Err(bad("Atlassian URLs have no explicit port"));
        }
        return Ok(url);
    }
    Err(bad(
        "not an Atlassian Cloud URL: expected https://your-site.atlassian.net or \
         https://api.atlassian.com (or the sandbox simulator's URL)",
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn atlassian_sites_and_the_gateway_are_accepted() {
        assert!(validate_site_url("https://acme.atlassian.net", None).is_ok());
        assert!(validate_site_url("https://api.atlassian.com/ex/jira/abc", None).is_ok());
    }

    #[test]
    fn other_hosts_plain_http_and_lookalikes_are_rejected() {
        for bad in [
            "https://evil.example.com",
            "http://acme.atlassian.net",
            "https://acme.atlassian.net.evil.com",
            "https://a.b.atlassian.net",
            "https://user:pw@acme.atlassian.net",
            "not a url",
        ] {
            let err = validate_site_url(bad, None).unwrap_err();
            assert!(matches!(err, OAuthError::InvalidUrl { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn the_sandbox_base_is_accepted_only_when_configured() {
        let base = Url::parse("http://127.0.0.1:8090").unwrap();
        assert!(validate_site_url("http://127.0.0.1:8090/site/acme", Some(&base)).is_ok());
        assert!(validate_site_url("http://127.0.0.1:8090/site/acme", None).is_err());
        assert!(validate_site_url("http://127.0.0.1:9999/site/acme", Some(&base)).is_err());
    }
}
