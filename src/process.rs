//! What a child process may see. cargo and the advisory download run with the environment of the
//! user, less what they must never receive: this module names it, for every stage that starts
//! a process or makes a request, so that no stage reaches into the command layer for it.

/// The environment variable that may hold the signing key's PEM text (`attest`, `audit
/// --sign-key` unset): never passed to a child process.
pub const KEY_VARIABLE: &str = "CHARTER_AUDIT_SIGNING_KEY";
