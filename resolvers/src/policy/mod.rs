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
//! | data            | PUBLIC | PARTNER                          | INTAKE | CASE_WORKER | ANALYST | ADMIN |
//! |-----------------|--------|----------------------------------|--------|-------------|---------|-------|
//! | social map      | read   | read; edit own org's services    | read   | read        | read    | read, edit |
//! | confidential location address | – | read                  | read   | read        | read    | read  |
//! | clients         | –      | of referrals sent to/by its org  | read   | read        | –       | all   |
//! | client fields   | –      | per active consent to its org    | all    | all         | –       | all   |
//! | help requests   | –      | of its clients, with SITUATION   | read   | read        | –       | all   |
//! | case notes      | –      | never                            | read, write | read, write | – | all |
//! | help request changes | – | –                                | open   | open, change, close | – | all |
//! | client changes  | –      | –                                | edit   | edit        | –       | edit, merge |
//! | consents        | –      | those given to its org           | read   | read        | –       | all   |
//! | referrals       | –      | sent to or by its org            | read   | read        | –       | all   |
//! | referral events | –      | of the referrals it sees         | read   | read        | –       | all   |
//! | referral changes| –      | answer its org's incoming        | cancel its org's outgoing | cancel its org's outgoing | – | all |
//! | appointments    | –      | book in its own office hours     | book   | book        | –       | book  |
//! | office hours, closures | read | read; set and close its own | read | read        | read    | read, set, close |
//! | appointments a closure cancelled | – | at its own office hours | read | read  | –       | read  |
//! | referral notices| –      | of the referrals it sees         | read   | read        | –       | all   |
//! | dashboards      | –      | own org's figures                | –      | –           | network, small counts withheld | all |
//! | audit log       | –      | –                                | –      | –           | –       | read  |
//! | organisations, people | –  | –                                | –      | –           | –       | add, change, deactivate |

pub mod actions;
pub mod roles;
pub mod scopes;

pub use actions::*;
pub use roles::*;
pub use scopes::*;
