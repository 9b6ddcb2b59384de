//! Licences as SPDX expressions, with cargo's legacy forms (`MIT/Apache-2.0`) canonicalised.

use cyclonedx_bom::external_models::spdx::SpdxExpression;
use cyclonedx_bom::models::license::{License, LicenseChoice, Licenses};

use super::component::text;
use crate::inventory::Package;

/// The licences of a package: an SPDX expression when the manifest's `license` is (or can be
/// canonicalised into) one; otherwise a named licence, with a warning.
pub(super) fn licenses(package: &Package, warnings: &mut Vec<String>) -> Option<Licenses> {
    let manifest = &package.manifest;
    if let Some(license) = manifest
        .license
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if let Some(expression) = spdx_expression(license) {
            return Some(Licenses(vec![LicenseChoice::Expression(expression)]));
        }
        warnings.push(format!(
            "{}: licence `{}` is not an SPDX expression; kept as a named licence (use an SPDX \
             identifier, or `LicenseRef-...` for your own)",
            text(&package.display()),
            text(license)
        ));
        return Some(Licenses(vec![LicenseChoice::License(
            License::named_license(&text(license)),
        )]));
    }
    manifest.license_file.as_deref().map(|file| {
        Licenses(vec![LicenseChoice::License(License::named_license(
            &format!("see {}", text(file)),
        ))])
    })
}

/// The SPDX expression of a manifest's licence, if it is one: as written, or with cargo's
/// legacy `/` read as `OR`. Nothing is guessed: `BSD` or `Apache 2.0` are not rewritten into
/// some identifier, they stay named licences (with a warning), as the supplier wrote them.
pub(crate) fn spdx_expression(license: &str) -> Option<SpdxExpression> {
    if let Ok(expression) = SpdxExpression::try_from(license.to_owned()) {
        return Some(expression);
    }
    if license.contains('/') {
        let rewritten = license
            .split('/')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" OR ");
        return SpdxExpression::try_from(rewritten).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_slash_becomes_or() {
        let e = spdx_expression("MIT/Apache-2.0").unwrap();
        assert_eq!(e.to_string(), "MIT OR Apache-2.0");
        let e = spdx_expression("Unlicense/MIT").unwrap();
        assert_eq!(e.to_string(), "Unlicense OR MIT");
    }

    #[test]
    fn valid_expressions_are_kept() {
        let e = spdx_expression("Apache-2.0 WITH LLVM-exception OR MIT").unwrap();
        assert_eq!(e.to_string(), "Apache-2.0 WITH LLVM-exception OR MIT");
        assert!(spdx_expression("LicenseRef-Example-Proprietary").is_some());
    }

    #[test]
    fn free_text_is_not_an_expression() {
        assert!(spdx_expression("Example Health Proprietary Licence").is_none());
    }

    #[test]
    fn imprecise_names_are_not_guessed() {
        for name in [
            "BSD",
            "LGPL",
            "Apache 2.0",
            "GPLv2+",
            "MIT/Apache-2.0 AND BSD",
            "mit",
        ] {
            assert!(spdx_expression(name).is_none(), "{name} was rewritten");
        }
    }
}
