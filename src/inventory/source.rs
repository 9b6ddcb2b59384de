//! Where a package comes from, parsed from cargo's source strings, and its package URL.

use packageurl::PackageUrl;

/// The crates.io index as cargo names it in `Cargo.lock` and `cargo metadata`.
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";
/// The crates.io sparse index, which cargo may also record for crates.io packages.
const CRATES_IO_SPARSE: &str = "sparse+https://index.crates.io/";

/// Where a package comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PackageSource {
    /// crates.io.
    CratesIo,
    /// Another registry, by its index URL (as cargo writes it, `sparse+` kept).
    Registry { index: String },
    /// A git repository at a commit.
    Git {
        /// Repository URL, without cargo's `git+` prefix, query or fragment.
        url: String,
        /// The branch, tag or rev asked for, as cargo recorded it (`branch=main`).
        reference: Option<String>,
        /// The commit cargo locked.
        commit: Option<String>,
    },
    /// A local path: a workspace member or a path dependency. The path is relative to the
    /// workspace root, `/`-separated, when known (cargo metadata); `Cargo.lock` does not say.
    Path { path: Option<String> },
    /// A source kind this tool does not know (kept verbatim, reported as such).
    Other { repr: String },
    /// A git repository or a registry other than crates.io known by its kind alone: the list
    /// `cargo auditable` embeds in a binary records the kind, never a URL, commit or checksum.
    Unlocated(Unlocated),
}

/// The kinds of source a binary's embedded list names without saying where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unlocated {
    Git,
    Registry,
}

impl PackageSource {
    /// Parses cargo's source string (`registry+URL`, `sparse+URL`, `git+URL?ref#commit`, ...).
    /// `None` (no source) is a path package.
    pub fn parse(repr: Option<&str>) -> Self {
        let Some(repr) = repr else {
            return PackageSource::Path { path: None };
        };
        if repr == CRATES_IO || repr == CRATES_IO_SPARSE {
            return PackageSource::CratesIo;
        }
        // A user name or token in a URL is never carried further (see `strip_userinfo`).
        let repr = strip_userinfo(repr).0;
        let repr = repr.as_str();
        if let Some(url) = repr.strip_prefix("registry+") {
            return PackageSource::Registry {
                index: url.to_owned(),
            };
        }
        if repr.starts_with("sparse+") {
            return PackageSource::Registry {
                index: repr.to_owned(),
            };
        }
        if let Some(rest) = repr.strip_prefix("git+") {
            let (rest, commit) = match rest.split_once('#') {
                Some((rest, commit)) => (rest, Some(commit.to_owned())),
                None => (rest, None),
            };
            let (url, reference) = match rest.split_once('?') {
                Some((url, query)) => (url, Some(query.to_owned())),
                None => (rest, None),
            };
            return PackageSource::Git {
                url: url.to_owned(),
                reference,
                commit,
            };
        }
        if repr.starts_with("path+") {
            return PackageSource::Path { path: None };
        }
        PackageSource::Other {
            repr: repr.to_owned(),
        }
    }

    /// A short name of the source kind: `crates.io`, `registry`, `git`, `path` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            PackageSource::CratesIo => "crates.io",
            PackageSource::Registry { .. } => "registry",
            PackageSource::Git { .. } => "git",
            PackageSource::Path { .. } => "path",
            PackageSource::Other { .. } => "other",
            PackageSource::Unlocated(Unlocated::Git) => "git",
            PackageSource::Unlocated(Unlocated::Registry) => "registry",
        }
    }
}

/// A URL without its user information (`git+https://user:token@host/x` gives
/// `git+https://host/x`), and whether it had any that may be a credential: a password, or a user
/// name alone (a token may be given as one) except over ssh, where `git@` is only a login name.
/// URLs from the audited project are written into SBOMs, reports and attestations, which are
/// shared: a credential a lockfile or manifest carries must never travel with them. Done by hand
/// rather than with the `url` crate so that a URL without user information is kept byte for byte
/// (`url` normalises) and text that is not a URL is handled the same way.
pub(crate) fn strip_userinfo(url: &str) -> (String, bool) {
    match userinfo(url) {
        Some(found) => (
            format!("{}{}", &url[..found.start], &url[found.end..]),
            found.credential,
        ),
        None => (url.to_owned(), false),
    }
}

/// Whether `url` carries a credential, as [`strip_userinfo`] tells it, without making the URL
/// it would keep (asked of every package of a lockfile).
pub(crate) fn carries_credential(url: &str) -> bool {
    userinfo(url).is_some_and(|found| found.credential)
}

/// Where a URL's user information and its `@` are (`url[start..end]`), and whether it is a
/// credential.
struct Userinfo {
    start: usize,
    end: usize,
    credential: bool,
}

fn userinfo(url: &str) -> Option<Userinfo> {
    let scheme_end = url.find("://")?;
    let start = scheme_end + 3;
    let rest = &url[start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_len].rfind('@')?;
    let scheme = url[..scheme_end].rsplit('+').next().unwrap_or_default();
    Some(Userinfo {
        start,
        end: start + at + 1,
        credential: rest[..at].contains(':') || !scheme.eq_ignore_ascii_case("ssh"),
    })
}

/// Free text (cargo's messages) with the user information of every URL in it removed.
pub(crate) fn strip_userinfo_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let authority_start = found + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let end = rest
            .find(|c: char| "/?#'\"`()<>[]{}".contains(c) || c.is_whitespace())
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The warning for an inventory in which a URL carried a credential (`found_in` names where).
pub(crate) fn credential_warning(found_in: &str) -> String {
    format!(
        "{found_in} carries a credential in a URL (a user name or token before `@`): it was left \
         out of every output, but anyone who can read that file can read it; revoke it, and let \
         cargo's credential providers or git's credential helper supply it instead"
    )
}

/// The package URL of a Cargo package. crates.io packages get the plain `pkg:cargo/NAME@VERSION`;
/// other sources carry the qualifier that says where they come from (never an absolute path).
pub(crate) fn purl(name: &str, version: &semver::Version, source: &PackageSource) -> String {
    let version = crate::text::version(version);
    // Most packages: a crates.io name and version with nothing the purl would encode, written
    // as the builder writes them (`plain_purl_is_the_builders`); an audit makes thousands.
    let plain = crate::text::plain_ascii;
    if *source == PackageSource::CratesIo && plain(name, b'_') && plain(&version, b'.') {
        let mut purl = String::with_capacity(11 + name.len() + version.len());
        purl.push_str("pkg:cargo/");
        purl.push_str(name);
        purl.push('@');
        purl.push_str(&version);
        return purl;
    }
    let qualifier = match source {
        PackageSource::CratesIo => None,
        PackageSource::Registry { index } => Some(("repository_url", index.clone())),
        PackageSource::Git { url, commit, .. } => Some((
            "vcs_url",
            match commit {
                Some(commit) => format!("git+{url}@{commit}"),
                None => format!("git+{url}"),
            },
        )),
        // Relative to the workspace root. Cargo.lock does not record where a path package is:
        // then a `source=path` qualifier still keeps it apart from a crates.io package.
        PackageSource::Path { path: Some(path) } => Some(("download_url", format!("file:{path}"))),
        PackageSource::Path { path: None } => Some(("source", "path".to_owned())),
        PackageSource::Other { repr } => Some(("repository_url", repr.clone())),
        // Where it is from is not known, only its kind: said as `source=path` is for a path.
        PackageSource::Unlocated(_) => Some(("source", source.kind().to_owned())),
    };
    build_purl(name, &version, qualifier)
        // The builder only fails on an empty name or type, which cargo never produces; keep a
        // hand-made form rather than panic on input from the audited project.
        .unwrap_or_else(|| format!("pkg:cargo/{name}@{version}"))
}

fn build_purl(name: &str, version: &str, qualifier: Option<(&str, String)>) -> Option<String> {
    let mut purl = PackageUrl::new("cargo", name).ok()?;
    purl.with_version(version).ok()?;
    if let Some((key, value)) = qualifier {
        purl.add_qualifier(key, value).ok()?;
    }
    Some(purl.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn plain_purl_is_the_builders(
            name in "[A-Za-z0-9_.+% -]{1,12}",
            version in "(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})(-[A-Za-z][A-Za-z0-9-]{0,5}(\\.[A-Za-z][A-Za-z0-9-]{0,5})?)?(\\+[A-Za-z0-9-]{1,6}(\\.[A-Za-z0-9-]{1,6})?)?",
        ) {
            let version = semver::Version::parse(&version).unwrap();
            proptest::prop_assert_eq!(
                purl(&name, &version, &PackageSource::CratesIo),
                build_purl(&name, &version.to_string(), None).unwrap()
            );
        }
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn crates_io_in_both_index_forms() {
        assert_eq!(
            PackageSource::parse(Some(CRATES_IO)),
            PackageSource::CratesIo
        );
        assert_eq!(
            PackageSource::parse(Some(CRATES_IO_SPARSE)),
            PackageSource::CratesIo
        );
        assert_eq!(
            purl("regex", &v("1.5.4"), &PackageSource::CratesIo),
            "pkg:cargo/regex@1.5.4"
        );
    }

    #[test]
    fn git_source_keeps_reference_and_commit() {
        let source = PackageSource::parse(Some(
            "git+https://github.com/nushell/reedline?branch=main#0123abcd",
        ));
        assert_eq!(
            source,
            PackageSource::Git {
                url: "https://github.com/nushell/reedline".into(),
                reference: Some("branch=main".into()),
                commit: Some("0123abcd".into()),
            }
        );
        assert_eq!(
            purl("reedline", &v("0.1.0"), &source),
            "pkg:cargo/reedline@0.1.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fnushell%2Freedline%400123abcd"
        );
    }

    #[test]
    fn other_registry_is_named_by_its_index() {
        let source = PackageSource::parse(Some("sparse+https://crates.example.org/index/"));
        assert_eq!(source.kind(), "registry");
        assert!(
            purl("internal", &v("2.0.0"), &source)
                .contains("repository_url=sparse%2Bhttps:%2F%2Fcrates.example.org%2Findex%2F")
        );
    }

    #[test]
    fn user_information_never_survives() {
        let source = PackageSource::parse(Some(
            "git+https://ci:ghp_s3cret@github.com/example/private?branch=main#0123abcd",
        ));
        assert_eq!(
            source,
            PackageSource::Git {
                url: "https://github.com/example/private".into(),
                reference: Some("branch=main".into()),
                commit: Some("0123abcd".into()),
            }
        );
        for (url, stripped, credential) in [
            (
                "sparse+https://tok@crates.example.org/i/",
                "sparse+https://crates.example.org/i/",
                true,
            ),
            (
                "git+ssh://git@github.com/x",
                "git+ssh://github.com/x",
                false,
            ),
            (
                "git+ssh://git:pw@github.com/x",
                "git+ssh://github.com/x",
                true,
            ),
            ("https://a@b@host/p@q", "https://host/p@q", true),
            ("https://host/p?u=a@b", "https://host/p?u=a@b", false),
            ("not a url@all", "not a url@all", false),
        ] {
            assert_eq!(
                strip_userinfo(url),
                (stripped.to_owned(), credential),
                "{url}"
            );
        }
    }

    proptest::proptest! {
        /// Whatever the text, nothing between `://` and the next `@` of the authority survives,
        /// stripping twice changes nothing more, and text with no user information is kept
        /// byte for byte.
        #[test]
        fn no_user_information_survives_any_text(
            before in "[a-z+]{0,8}",
            user in "[A-Za-z0-9_.:%-]{0,12}",
            host in "[a-z0-9.]{1,12}",
            after in "[ -~]{0,24}",
        ) {
            let url = format!("{before}://{user}@{host}/{after}");
            let (stripped, _) = strip_userinfo(&url);
            proptest::prop_assert_eq!(&stripped, &format!("{before}://{host}/{after}"));
            proptest::prop_assert_eq!(strip_userinfo(&stripped).0, stripped.clone());
            // In text, the user information goes and everything else stays (an `@` in the
            // path, after the authority, is not user information).
            let in_text = strip_userinfo_in_text(&format!("at '{url}' now"));
            if !after.contains("://") {
                proptest::prop_assert_eq!(in_text, format!("at '{before}://{host}/{after}' now"));
            }
            let plain = format!("{before}://{host}/{after}");
            if !after.contains("://") {
                proptest::prop_assert_eq!(strip_userinfo_in_text(&plain), plain.clone());
            }
        }

        #[test]
        fn any_text_is_stripped_without_panic(text in "\\PC{0,64}") {
            let _ = strip_userinfo(&text);
            let _ = strip_userinfo_in_text(&text);
        }

        /// The question asked of every package is answered as stripping answers it, for URLs
        /// with and without user information, over ssh and not.
        #[test]
        fn a_credential_is_found_as_stripping_finds_it(
            text in "\\PC{0,24}",
            scheme in "(ssh|git\\+ssh|https|registry\\+https|SSH)",
            user in "[A-Za-z0-9_.:@%-]{0,12}",
            at in proptest::bool::ANY,
            rest in "[ -~]{0,24}",
        ) {
            let url = format!("{scheme}://{user}{}{rest}", if at { "@" } else { "" });
            for url in [text.as_str(), url.as_str()] {
                let stripped = strip_userinfo(url).1;
                proptest::prop_assert_eq!(carries_credential(url), stripped, "{}", url);
            }
        }
    }

    #[test]
    fn path_source_is_relative() {
        let source = PackageSource::Path {
            path: Some("crates/util".into()),
        };
        assert_eq!(
            purl("util", &v("0.1.0"), &source),
            "pkg:cargo/util@0.1.0?download_url=file:crates%2Futil"
        );
        assert_eq!(
            PackageSource::parse(None),
            PackageSource::Path { path: None }
        );
    }
}
