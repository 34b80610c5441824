//! The access policy: the contract's "Who may see what" table, in one folder that points only
//! down (to the entities, the caller and the referral's life cycle; never to loaders or
//! resolvers). A reviewer checks the whole policy by reading these three files:
//!
//! - [`roles`]: who may do what at all, as role sets; the guards and the schema each role sees
//!   (introspection and validation) both derive from them;
//! - [`scopes`]: which rows exist for a caller, as SQL conditions every query path adds;
//! - [`actions`]: who may make which change to which row, and read which category of a
//!   client's data.
//!
//! The guards that apply these rules to fields (`crate::guards`) sit above the loaders, which
//! fetch the consent scopes they need.
//!
//! | data            | PUBLIC | PARTNER                          | INTAKE | CASE_WORKER | ANALYST | ADMIN | CLIENT |
//! |-----------------|--------|----------------------------------|--------|-------------|---------|-------|--------|
//! | social map      | read   | read; edit own org's services    | read   | read        | read    | read, edit | read |
//! | confidential location address | – | read                  | read   | read        | read    | read  | read   |
//! | clients         | –      | of referrals sent to/by its org  | read   | read        | –       | all   | themself |
//! | client fields   | –      | per active consent to its org    | all    | all         | –       | all   | all their own |
//! | help requests   | –      | of its clients, with SITUATION   | read   | read        | –       | all   | their own |
//! | help request outcome | – | never                            | read   | read        | –       | all   | –      |
//! | case notes      | –      | never                            | read, write | read, write | – | all | shared with them, not the author |
//! | help request changes | – | –                                | open   | open, change, close | – | all | –  |
//! | client changes  | –      | –                                | edit   | edit        | –       | edit, merge | – |
//! | consents        | –      | those given to its org           | read, record, revoke | read, record, revoke | – | all | their own: grant, revoke |
//! | consent recorder| –      | –                                | read   | read        | –       | read  | –      |
//! | referrals       | –      | sent to or by its org            | read   | read        | –       | all   | their own |
//! | referral events | –      | of the referrals it sees         | read   | read        | –       | all   | of their own referrals |
//! | notes between organisations | – | of the referrals it sees  | read   | read        | –       | all   | – (`noteForClient`) |
//! | referral changes| –      | answer its org's incoming        | cancel its org's outgoing | cancel its org's outgoing | – | all | – |
//! | appointments    | –      | book in its own office hours     | book   | book        | –       | book  | their own: book, cancel |
//! | office hours, closures | read | read; set and close its own | read | read        | read    | read, set, close | read |
//! | appointments a closure cancelled | – | at its own office hours | read | read  | –       | read  | their own |
//! | referral notices| –      | of the referrals it sees         | read   | read        | –       | all   | of their own referrals |
//! | dashboards      | –      | own org's figures                | –      | –           | network, small counts withheld | all | – |
//! | audit log       | –      | –                                | –      | –           | –       | read  | their own access log, not the person |
//! | organisations, people | –  | –                                | –      | –           | –       | add, change, deactivate | – |
//! | erasure, legal hold | –  | –                                | –      | –           | –       | erase, hold | –  |
//! | webhooks        | –      | its own organisation's: manage   | –      | –           | –       | all   | –      |

pub mod actions;
pub mod roles;
pub mod scopes;

pub use actions::*;
pub use roles::*;
pub use scopes::*;
