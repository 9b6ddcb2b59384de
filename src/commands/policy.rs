//! `charter-audit policy list | show NAME | init`.

use super::Outcome;
use crate::Error;
use crate::cli::PolicyAction;
use crate::policy::{self, PolicyError};
use crate::report::{self, Output};

pub(super) fn run(action: &PolicyAction) -> Result<Outcome, Error> {
    match action {
        PolicyAction::List => {
            let mut text = String::new();
            for (name, _) in policy::BUILTIN {
                let description = policy::builtin(name)
                    .map(|p| p.settings.description)
                    .unwrap_or_default();
                let default = if *name == "nhs-charter" {
                    " (default)"
                } else {
                    ""
                };
                text.push_str(&format!("{name}{default}\n    {description}\n"));
            }
            report::emit(&Output::Stdout, text.as_bytes())?;
            Ok(Outcome::default())
        }
        PolicyAction::Show { name } => {
            let (_, text) = policy::BUILTIN
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| PolicyError::Unknown { name: name.clone() })?;
            report::emit(&Output::Stdout, text.as_bytes())?;
            Ok(Outcome::default())
        }
        PolicyAction::Init { output } => {
            // `-` is standard output, as for every other output of the tool.
            if output.as_os_str() == "-" {
                report::emit(&Output::Stdout, policy::INIT_TEMPLATE.as_bytes())?;
                return Ok(Outcome::default());
            }
            if output.exists() {
                return Err(Error::Usage(format!(
                    "{} exists already: edit it, or name another file with -o",
                    output.display()
                )));
            }
            let target = Output::File(output.clone());
            report::check_destination(&target)?;
            report::emit(&target, policy::INIT_TEMPLATE.as_bytes())?;
            Ok(Outcome {
                notes: vec![format!(
                    "wrote {}: set your supplier details, then run `charter-audit audit`",
                    output.display()
                )],
                ..Outcome::default()
            })
        }
    }
}
