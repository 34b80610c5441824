//! The daily work in the demo: notes corrected into later versions, notes on a client outside
//! any help request (some shared with the client), the outcome of closed help requests, and a
//! client registered twice whose duplicate an administrator merged (so that `cargo run` shows
//! each of them). Drawn from a generator of its own, so the rest of the demo stays as it was.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entities::{HelpRequestStatus, LifeDomain, case_note, client, help_request, help_request_life_domain};
use fastrand::Rng;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use super::{Demo, SEED, id};

/// What a later version adds to a note.
const ADDITIONS: &[&str] = &[
    "Aangevuld: de huurwaarborg is intussen betaald door het OCMW.",
    "Correctie: het gesprek was op dinsdag, niet op maandag.",
    "Aangevuld: cliënt bracht de ontbrekende loonfiches mee.",
    "Correctie: de deurwaarder is van een ander kantoor dan eerst genoteerd.",
];

/// Notes on a client, outside any help request; the first ones are shared with the client.
const CLIENT_NOTES: &[(&str, bool)] = &[
    ("Afspraak bevestigd voor het volgende gesprek; breng je identiteitskaart mee.", true),
    ("Cliënt belde: de brief van de huisbaas is aangekomen.", false),
    ("Doorgegeven welke documenten nodig zijn voor de aanvraag van de energiepremie.", true),
    ("Cliënt liet weten dat de telefoon soms niet bereikbaar is; liever mailen.", false),
];

/// What came of a help request, as the case worker writes it when closing.
const OUTCOMES: &[&str] = &[
    "Woning gevonden via de Woonclub; opvolging afgerond.",
    "Budgetplan opgesteld, afbetalingen lopen.",
    "Doorverwijzing afgerond; cliënt weet de weg zelf.",
];

/// A client registered twice: the second registration, with what it holds, before the merge.
pub(super) struct Duplicate {
    kept: Uuid,
    client: client::Model,
    help_request: help_request::Model,
    life_domain: help_request_life_domain::Model,
    note: case_note::Model,
    merged_by: Uuid,
    merged_at: DateTime<Utc>,
    trace_id: Uuid,
}

impl Demo {
    /// Adds the daily work to the demo built so far.
    pub(super) fn daily_work(&mut self, users: &HashMap<&'static str, Uuid>, now: DateTime<Utc>) {
        let mut rng = Rng::with_seed(SEED + 1);
        let case_worker = users["maatschappelijk.werker@welzijnshuis.test"];
        let intake = users["onthaal@welzijnshuis.test"];
        self.correct_some_notes(&mut rng, [case_worker, intake], now);
        self.notes_on_clients(&mut rng, case_worker);
        self.record_outcomes(case_worker);
        self.duplicate = self.register_twice(&mut rng, intake, users["admin@welzijnshuis.test"], now);
    }

    /// Every other note gets a second version; every fourth a third.
    fn correct_some_notes(&mut self, rng: &mut Rng, authors: [Uuid; 2], now: DateTime<Utc>) {
        let firsts: Vec<case_note::Model> = self.case_notes.iter().step_by(2).cloned().collect();
        for (n, first) in firsts.into_iter().enumerate() {
            let mut previous = first;
            for version in 2..=(if n % 2 == 0 { 3 } else { 2 }) {
                let written = (previous.created_at + Duration::hours(rng.i64(2..72))).min(now);
                let next = case_note::Model {
                    id: id(rng),
                    version,
                    author_id: authors[(n + version as usize) % 2],
                    body: format!(
                        "{} {}",
                        previous.body,
                        ADDITIONS[(n + version as usize) % ADDITIONS.len()]
                    ),
                    created_at: written,
                    superseded_at: None,
                    ..previous.clone()
                };
                if let Some(row) = self.case_notes.iter_mut().find(|r| r.id == previous.id) {
                    row.superseded_at = Some(written);
                }
                self.case_notes.push(next.clone());
                previous = next;
            }
        }
    }

    /// A note on every fourth client, outside its help requests.
    fn notes_on_clients(&mut self, rng: &mut Rng, author: Uuid) {
        let clients: Vec<(Uuid, DateTime<Utc>)> =
            self.clients.iter().skip(1).step_by(4).map(|c| (c.id, c.created_at)).collect();
        for (n, (client, registered)) in clients.into_iter().enumerate() {
            let (body, shared) = CLIENT_NOTES[n % CLIENT_NOTES.len()];
            let note_id = id(rng);
            let at = registered + Duration::days(1 + rng.i64(0..4));
            self.case_notes.push(case_note::Model {
                id: note_id,
                client_id: client,
                help_request_id: None,
                thread_id: note_id,
                version: 1,
                author_id: author,
                body: body.into(),
                shared_with_client: shared,
                noted_at: at,
                created_at: at,
                superseded_at: None,
            });
        }
    }

    /// The case worker recorded what came of every other closed help request.
    fn record_outcomes(&mut self, case_worker: Uuid) {
        let closed = self.help_requests.iter_mut().filter(|h| h.status == HelpRequestStatus::Closed);
        for (n, help) in closed.enumerate().filter(|(n, _)| n % 2 == 0) {
            help.outcome = Some(OUTCOMES[n / 2 % OUTCOMES.len()].into());
            help.closed_by = Some(case_worker);
        }
    }

    /// A client registered a second time a few days later, by phone, with a typo in the family
    /// name and without birth date or national register number (so the desk's duplicate check
    /// did not see it); an administrator merged it two days after.
    fn register_twice(
        &self,
        rng: &mut Rng,
        intake: Uuid,
        admin: Uuid,
        now: DateTime<Utc>,
    ) -> Option<Duplicate> {
        let kept = self.clients.iter().find(|c| c.family_name.len() > 4 && c.email.is_some())?;
        let registered = (kept.created_at + Duration::days(3)).min(now - Duration::days(2));
        let mut family = kept.family_name.clone();
        family.remove(family.len() / 2);
        let client = client::Model {
            id: id(rng),
            family_name: family,
            date_of_birth: None,
            national_register_number: None,
            street: None,
            postcode: None,
            municipality: None,
            email: None,
            phone: Some("0470 00 11 22".into()),
            created_at: registered,
            updated_at: registered,
            ..kept.clone()
        };
        let help_request = help_request::Model {
            id: id(rng),
            client_id: client.id,
            summary: "Belde over een achterstallige energiefactuur.".into(),
            channel: "PHONE".into(),
            status: HelpRequestStatus::Open,
            opened_by: Some(intake),
            opened_at: registered,
            closed_at: None,
            outcome: None,
            closed_by: None,
        };
        let life_domain = help_request_life_domain::Model {
            help_request_id: help_request.id,
            life_domain: LifeDomain::Finances,
        };
        let note_id = id(rng);
        let note = case_note::Model {
            id: note_id,
            client_id: client.id,
            help_request_id: Some(help_request.id),
            thread_id: note_id,
            version: 1,
            author_id: intake,
            body: "Telefonisch aangemeld; lijkt al gekend bij het onthaal, na te kijken.".into(),
            shared_with_client: false,
            noted_at: registered,
            created_at: registered,
            superseded_at: None,
        };
        Some(Duplicate {
            kept: kept.id,
            client,
            help_request,
            life_domain,
            note,
            merged_by: admin,
            merged_at: registered + Duration::days(2),
            trace_id: id(rng),
        })
    }
}

/// Writes the duplicate with what it holds, and merges it into the client kept the way
/// `mergeClients` does.
pub(super) async fn merge_duplicate(txn: &DatabaseTransaction, duplicate: &Duplicate) -> anyhow::Result<()> {
    let inserted = duplicate.client.clone().into_active_model().insert(txn).await?;
    duplicate.help_request.clone().into_active_model().insert(txn).await?;
    help_request_life_domain::Entity::insert(duplicate.life_domain.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    duplicate.note.clone().into_active_model().insert(txn).await?;
    let kept = client::Entity::find_by_id(duplicate.kept)
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the kept client is missing"))?;
    let merge = resolvers::merge::Merge {
        by: Some(duplicate.merged_by),
        at: duplicate.merged_at,
        trace_id: duplicate.trace_id,
    };
    resolvers::merge::merge_clients(txn, kept, inserted, merge)
        .await
        .map_err(|err| anyhow::anyhow!("merging the demo duplicate: {}", err.message()))?;
    Ok(())
}
