//! VEX statements (`audit --vex`) judged against the findings, within the policy's trust rules
//! (`[vex]`): a `not_affected` statement about a finding's package (by purl, name and version)
//! and its vulnerability (by the finding's id or one of the finding's own aliases) excepts it
//! only if it is at most `vex.max-age` days old and not dated after the evaluation time, gives
//! a justification or an impact statement when `vex.require-justification` says so, and comes
//! from a signed document when `vex.require-signed` says so. A statement that fails any of
//! these is shown on the finding, never silently dropped. `affected` adds its action;
//! `under_investigation` and `fixed` never except. Statements that match no finding are
//! listed (`vex-unused`), like exceptions that match none.
//!
//! The same functions judge a run and re-judge a report read back (`attest --report`).

use std::collections::HashMap;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::assess::Judged;
use super::model::Policy;
use super::verdict::{AppliedVex, Judgement, Rule, RuleFinding, Verdict};
use crate::advisories::Finding;
use crate::vex::{Document, Statement, Status, same_package};

/// A statement with its place (document, statement): the order statements are taken in.
type Placed<'a> = ((usize, usize), &'a Document, &'a Statement);

/// The statements of every document, indexed by the vulnerability they name.
#[derive(Debug)]
pub struct Index<'a> {
    /// With each statement's place (document, statement), the order they are taken in.
    by_name: HashMap<&'a str, Vec<Placed<'a>>>,
    documents: &'a [Document],
    /// The audited product's purl: a statement about subcomponents of a product speaks only
    /// of them inside that product.
    product: Option<&'a str>,
}

impl<'a> Index<'a> {
    pub fn new(documents: &'a [Document], product: Option<&'a str>) -> Index<'a> {
        let mut by_name: HashMap<&str, Vec<Placed<'_>>> = HashMap::new();
        for (d, document) in documents.iter().enumerate() {
            for (s, statement) in document.statements.iter().enumerate() {
                by_name
                    .entry(statement.vulnerability.as_str())
                    .or_default()
                    .push(((d, s), document, statement));
            }
        }
        Index {
            by_name,
            documents,
            product,
        }
    }

    /// The statements about `finding`, in the order given.
    fn about(&self, finding: &Finding) -> Vec<(&'a Document, &'a Statement)> {
        let mut names: Vec<&str> = std::iter::once(finding.id.as_str())
            .chain(finding.aliases.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut out: Vec<Placed<'_>> = names
            .into_iter()
            .filter_map(|name| self.by_name.get(name))
            .flatten()
            .copied()
            .filter(|(_, _, s)| self.component_matches(s, finding))
            .collect();
        // In the order of the documents and their statements, whichever name matched.
        out.sort_unstable_by_key(|(place, _, _)| *place);
        out.dedup_by_key(|(place, _, _)| *place);
        out.into_iter().map(|(_, d, s)| (d, s)).collect()
    }

    fn component_matches(&self, statement: &Statement, finding: &Finding) -> bool {
        let product = match &statement.product {
            None => true,
            // The product by type, name and version: its qualifiers (`?source=path`) are how
            // this run found it, not which release it is.
            Some(named) => self
                .product
                .is_some_and(|ours| same_package(&unqualified(named), &unqualified(ours))),
        };
        product
            && statement
                .components
                .iter()
                .any(|c| same_package(c, &finding.package.purl))
    }

    /// Every finding, with what the VEX statements about it make of its judgement.
    pub fn apply_all(
        &self,
        judged: Vec<Judged>,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Vec<Judged> {
        judged
            .into_iter()
            .map(|j| Judged {
                judgement: self.apply(&j.finding, j.judgement, policy, now),
                ..j
            })
            .collect()
    }

    /// What the latest statement about `finding` makes of its `judgement`.
    pub fn apply(
        &self,
        finding: &Finding,
        mut judgement: Judgement,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Judgement {
        let about = self.about(finding);
        // The latest statement decides (a later word replaces an earlier one); an undated one
        // is the earliest.
        // At the same time, the graver word wins.
        let Some((document, statement)) = about
            .into_iter()
            .rev()
            .max_by_key(|(_, s)| (time_of(s), gravity(s.status)))
        else {
            return judgement;
        };
        let who = format!("VEX {} by {}", document.name, document.author);
        match statement.status {
            Status::Affected => judgement.message.push_str(&format!(
                "; {who} says affected: {}",
                statement
                    .action
                    .as_deref()
                    .unwrap_or("it gives no action statement")
            )),
            Status::UnderInvestigation => judgement.message.push_str(&format!(
                "; {who} says under investigation, which does not except it"
            )),
            Status::Fixed => judgement.message.push_str(&format!(
                "; {who} says fixed, but this version is in the product, so it does not except it"
            )),
            Status::NotAffected => {
                if matches!(judgement.verdict, Verdict::Violation | Verdict::Warning) {
                    except(&mut judgement, document, statement, policy, now);
                }
            }
        }
        judgement
    }

    /// `vex-unused`: each vulnerability a document speaks of for components that no finding
    /// of the run is about.
    pub fn unused(&self, judged: &[Judged]) -> Vec<RuleFinding> {
        let mut by_name: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for finding in judged.iter().map(|j| &j.finding) {
            for name in std::iter::once(&finding.id).chain(&finding.aliases) {
                by_name.entry(name.as_str()).or_default().push(finding);
            }
        }
        let mut out: Vec<RuleFinding> = Vec::new();
        for document in self.documents {
            for statement in &document.statements {
                let used = by_name
                    .get(statement.vulnerability.as_str())
                    .is_some_and(|named| {
                        named.iter().any(|f| self.component_matches(statement, f))
                    });
                if used {
                    continue;
                }
                let subject = format!("{} ({})", statement.vulnerability, document.name);
                if out.iter().any(|r| r.subject == subject) {
                    continue;
                }
                out.push(RuleFinding {
                    rule: Rule::VexUnused,
                    verdict: Verdict::Warning,
                    message: format!(
                        "{} by {} speaks of {} for {}, which is no finding of this run: check that it is about this product",
                        document.name,
                        document.author,
                        statement.vulnerability,
                        shown(&statement.components),
                    ),
                    subject,
                    package: None,
                });
            }
        }
        out
    }
}

/// A purl without its qualifiers and subpath.
fn unqualified(purl: &str) -> String {
    purl.split(['?', '#']).next().unwrap_or(purl).to_owned()
}

/// A few of the components, as a message names them.
fn shown(components: &[String]) -> String {
    let mut list: Vec<String> = components.iter().take(3).cloned().collect();
    if components.len() > 3 {
        list.push(format!("{} more", components.len() - 3));
    }
    if list.is_empty() {
        "no component".to_owned()
    } else {
        list.join(", ")
    }
}

fn gravity(status: Status) -> u8 {
    match status {
        Status::NotAffected => 0,
        Status::Fixed => 1,
        Status::UnderInvestigation => 2,
        Status::Affected => 3,
    }
}

fn time_of(statement: &Statement) -> Option<OffsetDateTime> {
    statement
        .time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

/// Why a `not_affected` statement may not except under the policy, if it may not.
fn refusal(
    document: &Document,
    statement: &Statement,
    policy: &Policy,
    now: OffsetDateTime,
) -> Option<String> {
    let rules = &policy.settings.vex;
    if rules.require_signed && document.signer.is_none() {
        return Some(
            "the document is not signed and the policy requires signed VEX (vex.require-signed)"
                .to_owned(),
        );
    }
    let Some(at) = time_of(statement) else {
        return Some("the statement is undated, so its age cannot be judged".to_owned());
    };
    if at > now {
        return Some(format!(
            "the statement is dated {}, after the evaluation time",
            crate::time::rfc3339(at)
        ));
    }
    let age = now - at;
    if age > Duration::days(i64::from(rules.max_age)) {
        return Some(format!(
            "the statement is {} days old, more than the policy's {} (vex.max-age)",
            age.whole_days(),
            rules.max_age
        ));
    }
    if rules.require_justification
        && statement.justification.is_none()
        && statement.impact.is_none()
    {
        return Some(
            "the statement gives no justification or impact statement, which the policy requires (vex.require-justification)"
                .to_owned(),
        );
    }
    None
}

/// A `not_affected` statement: it excepts the finding, or the finding says why it does not.
fn except(
    judgement: &mut Judgement,
    document: &Document,
    statement: &Statement,
    policy: &Policy,
    now: OffsetDateTime,
) {
    let who = format!("VEX {} by {}", document.name, document.author);
    if let Some(why) = refusal(document, statement, policy, now) {
        judgement.message.push_str(&format!(
            "; {who} says not affected, but {why}: it does not except it"
        ));
        return;
    }
    let time = statement.time.clone().unwrap_or_default();
    let signed = match &document.signer {
        Some(key) => format!("signed by key {key}"),
        None => "unsigned".to_owned(),
    };
    let reasons: Vec<&str> = [
        statement.justification.as_deref(),
        statement.impact.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    judgement.verdict = Verdict::Excepted;
    judgement.message.push_str(&format!(
        "; not affected on the word of {} ({}, {}, {signed}, {time}){}",
        document.author,
        document.name,
        document.sha256,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", reasons.join("; "))
        }
    ));
    judgement.vex = Some(AppliedVex {
        document: document.name.clone(),
        sha256: document.sha256.clone(),
        author: document.author.clone(),
        signer: document.signer.clone(),
        vulnerability: statement.vulnerability.clone(),
        time,
        justification: statement.justification.clone(),
        impact: statement.impact.clone(),
    });
}

#[cfg(test)]
mod tests;
