//! Whether a VEX statement's component is a finding's package: strictly by purl.

use std::str::FromStr;

use packageurl::PackageUrl;

/// Whether `named` (what a statement names) is the package `purl` (a finding's, or the
/// product's): both purls, of the same type, namespace, name, qualifiers and subpath, and both
/// with a version, the same. A purl without a version, or with a range in its place, names no
/// one version, so it matches none.
pub fn same_package(named: &str, purl: &str) -> bool {
    let (Ok(a), Ok(b)) = (PackageUrl::from_str(named), PackageUrl::from_str(purl)) else {
        return false;
    };
    let (Some(va), Some(vb)) = (a.version(), b.version()) else {
        return false;
    };
    let qualifiers = |p: &PackageUrl<'_>| {
        let mut q: Vec<(String, String)> = p
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        q.sort();
        q
    };
    a.ty() == b.ty()
        && a.namespace() == b.namespace()
        && a.name() == b.name()
        && va == vb
        && qualifiers(&a) == qualifiers(&b)
        && a.subpath() == b.subpath()
}
