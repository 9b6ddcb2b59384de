//! The flags of `sbom`, and the supplier flags it shares with `audit`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::InventoryArgs;
use crate::report::Output;
use crate::sbom::{Format, Profile, Spec, Supplier};

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,

    /// CycloneDX version to write.
    #[arg(long, value_enum, default_value_t = SpecArg::V1_6)]
    pub spec_version: SpecArg,

    /// Completeness profile: write the SBOM for it and list on standard error, field by
    /// field, what it lacks and why (the SBOM is written all the same, exit 0).
    /// bsi-tr-03183-2 adds BSI's component properties and needs CycloneDX 1.6.
    #[arg(long, value_enum, value_name = "NAME")]
    pub profile: Option<ProfileArg>,

    /// A release artifact of the product (repeatable): its file name and SHA-512 become the
    /// product's `distribution` references (its deployable form, as TR-03183-2 asks).
    #[arg(long, value_name = "FILE")]
    pub subject: Vec<PathBuf>,

    #[command(flatten)]
    pub supplier: SupplierArgs,

    /// The supplier's configuration, for its [supplier] table [default: charter-audit.toml
    /// beside the workspace's Cargo.toml or the lockfile, if there is one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where to write the SBOM: a file (written atomically) or `-` for standard output.
    #[arg(
        short,
        long,
        value_name = "FILE|-",
        default_value = "-",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub output: String,
}

/// Who supplies the product and wrote the SBOM (NTIA minimum elements); the configuration's
/// [supplier] table when no flag gives them.
#[derive(Debug, Args)]
pub struct SupplierArgs {
    /// Supplier of the product (NTIA minimum element), e.g. "Example Health Ltd" [default:
    /// the configuration's [supplier] name].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub supplier: Option<String>,

    /// The supplier's web address.
    #[arg(long, value_name = "URL", requires = "supplier")]
    pub supplier_url: Option<String>,

    /// The supplier's security contact e-mail.
    #[arg(long, value_name = "EMAIL", requires = "supplier")]
    pub supplier_contact: Option<String>,

    /// Author of the SBOM data (repeatable) [default: the supplier].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub author: Vec<String>,
}

impl SupplierArgs {
    /// The supplier the flags name, else the configuration's [supplier] table.
    pub fn supplier(
        &self,
        config: Option<&crate::policy::config::SupplierConfig>,
    ) -> Option<Supplier> {
        match &self.supplier {
            Some(name) => Some(Supplier {
                name: name.clone(),
                url: self.supplier_url.clone(),
                contact: self.supplier_contact.clone(),
            }),
            None => config.map(|s| Supplier {
                name: s.name.clone(),
                url: s.url.clone(),
                contact: s.contact.clone(),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Xml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SpecArg {
    #[value(name = "1.6")]
    V1_6,
    #[value(name = "1.5")]
    V1_5,
    #[value(name = "1.4")]
    V1_4,
}

/// The completeness profiles, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// The NTIA minimum elements (2021).
    #[value(name = "ntia-2021")]
    Ntia2021,
    /// CISA's minimum elements, August 2025 draft: adds component hash, licence, tool name,
    /// generation context.
    #[value(name = "cisa-2025-draft")]
    Cisa2025Draft,
    /// BSI TR-03183-2 v2.1.
    #[value(name = "bsi-tr-03183-2")]
    BsiTr03183_2,
}

impl SbomArgs {
    pub fn spec(&self) -> Spec {
        match self.spec_version {
            SpecArg::V1_4 => Spec::V1_4,
            SpecArg::V1_5 => Spec::V1_5,
            SpecArg::V1_6 => Spec::V1_6,
        }
    }

    /// The profile asked for (`None`: no list of what is missing).
    pub fn profile(&self) -> Option<Profile> {
        self.profile.map(|p| match p {
            ProfileArg::Ntia2021 => Profile::Ntia2021,
            ProfileArg::Cisa2025Draft => Profile::Cisa2025Draft,
            ProfileArg::BsiTr03183_2 => Profile::BsiTr03183_2,
        })
    }

    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Json => Format::Json,
            FormatArg::Xml => Format::Xml,
        }
    }

    pub fn output(&self) -> Output {
        Output::parse(&self.output)
    }
}
