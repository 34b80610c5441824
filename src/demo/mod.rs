//! The demo network of the contract: the welfare house, its four partners and their users, a
//! social map of the region, and clients with help requests, consents and referrals in every
//! status spread over the past six months. Deterministic (seeded), written in one transaction,
//! and loaded only into an empty database.

mod citizens;
mod daily;
pub mod holidays;
mod people;
mod social_map;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use entities::*;
use fastrand::Rng;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

pub use citizens::{CITIZENS, Citizen};
use resolvers::national_number::NationalRegisterNumber;
use social_map::{OFFICE_HOURS, ORGS, PLACES, SERVICES, WELFARE_HOUSE};

/// How much was loaded.
#[derive(Debug, Default)]
pub struct Summary {
    pub organisations: usize,
    pub services: usize,
    pub clients: usize,
    pub referrals: usize,
}

/// Loads the demo network unless the database already holds organisations.
/// Returns `None` when it did nothing.
pub async fn load_if_empty(db: &DatabaseConnection) -> anyhow::Result<Option<Summary>> {
    if organisation::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    load(db, Utc::now()).await.map(Some)
}

/// Writes the demo network as it stands at `now`, all or nothing.
pub async fn load(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<Summary> {
    load_scaled(db, now, Scale::CONTRACT).await
}

/// How many clients and referrals the demo holds: the contract's 48 and 64 (and one more referral
/// for each of the [`CITIZENS`]), or scaled up for
/// benchmarks (`--scale 10000`: ten thousand clients and ten referrals each). The same seed
/// makes the same network every time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub clients: usize,
    pub referrals: usize,
}

impl Scale {
    pub const CONTRACT: Scale = Scale { clients: CLIENTS, referrals: REFERRALS };

    /// `clients` clients with ten referrals each (the contract's demo below 48).
    pub fn clients(clients: usize) -> Scale {
        if clients <= CLIENTS { Scale::CONTRACT } else { Scale { clients, referrals: clients * 10 } }
    }
}

/// Writes a demo network of the given scale as it stands at `now`, all or nothing.
pub async fn load_scaled(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    scale: Scale,
) -> anyhow::Result<Summary> {
    let demo = Demo::build(now.trunc_subsecs(0), scale);
    let txn = db.begin().await?;
    insert_all(&txn, demo.organisations.clone()).await.context("organisations")?;
    insert_all(&txn, demo.users).await.context("users")?;
    insert_all(&txn, demo.locations).await.context("locations")?;
    insert_all(&txn, demo.services.clone()).await.context("services")?;
    insert_all(&txn, demo.service_life_domains).await.context("service life domains")?;
    insert_all(&txn, demo.service_languages).await.context("service languages")?;
    insert_all(&txn, demo.service_at_locations).await.context("service locations")?;
    insert_all(&txn, demo.schedules).await.context("schedules")?;
    insert_all(&txn, demo.office_hours).await.context("office hours")?;
    insert_all(&txn, demo.office_hours_closures).await.context("office hours closures")?;
    insert_all(&txn, demo.clients.clone()).await.context("clients")?;
    insert_all(&txn, demo.help_requests).await.context("help requests")?;
    insert_all(&txn, demo.help_request_life_domains).await.context("help request domains")?;
    insert_all(&txn, demo.case_notes).await.context("case notes")?;
    insert_all(&txn, demo.consents).await.context("consents")?;
    // Counted once after the bulk insert rather than by the trigger row by row (see there).
    migration::pause_referral_counts(&txn).await.context("referral counts")?;
    insert_all(&txn, demo.referrals.clone()).await.context("referrals")?;
    migration::count_referrals_again(&txn).await.context("referral counts")?;
    insert_all(&txn, demo.referral_events).await.context("referral events")?;
    insert_all(&txn, demo.appointments).await.context("appointments")?;
    insert_all(&txn, demo.audit_entries).await.context("the citizens' access log")?;
    if let Some(duplicate) = &demo.duplicate {
        daily::merge_duplicate(&txn, duplicate).await.context("the merged duplicate")?;
    }
    txn.commit().await?;
    Ok(Summary {
        organisations: demo.organisations.len(),
        services: demo.services.len(),
        clients: demo.clients.len(),
        referrals: demo.referrals.len(),
    })
}

/// Rows per INSERT. Measured on PostgreSQL loading `--scale 2000`: 20 or 50 rows a statement
/// take 2.4–2.7 s, 100 rows 13 s and 200 rows 22 s (statements of some tens of kilobytes stall
/// on the connection), 1000 rows 4.3 s.
const INSERT_BATCH: usize = 50;

/// Inserts rows in batches small enough for either database's parameter limit.
async fn insert_all<M, A>(db: &impl sea_orm::ConnectionTrait, rows: Vec<M>) -> anyhow::Result<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
{
    let started = std::time::Instant::now();
    let count = rows.len();
    let mut rows = rows.into_iter().map(IntoActiveModel::into_active_model).peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(INSERT_BATCH).collect();
        A::Entity::insert_many(batch).exec_without_returning(db).await?;
    }
    tracing::debug!(table = sea_orm::EntityName::table_name(&A::Entity::default()), count, elapsed = ?started.elapsed(), "demo rows written");
    Ok(())
}

/// The demo rows, built in memory before anything is written.
#[derive(Default)]
struct Demo {
    organisations: Vec<organisation::Model>,
    users: Vec<user::Model>,
    locations: Vec<location::Model>,
    services: Vec<service::Model>,
    service_life_domains: Vec<service_life_domain::Model>,
    service_languages: Vec<service_language::Model>,
    service_at_locations: Vec<service_at_location::Model>,
    schedules: Vec<schedule::Model>,
    office_hours: Vec<office_hour::Model>,
    office_hours_closures: Vec<office_hours_closure::Model>,
    clients: Vec<client::Model>,
    help_requests: Vec<help_request::Model>,
    help_request_life_domains: Vec<help_request_life_domain::Model>,
    case_notes: Vec<case_note::Model>,
    consents: Vec<consent::Model>,
    referrals: Vec<referral::Model>,
    referral_events: Vec<referral_event::Model>,
    appointments: Vec<appointment::Model>,
    audit_entries: Vec<audit_entry::Model>,
    /// A client registered twice, merged when the demo is written.
    duplicate: Option<daily::Duplicate>,
}

/// The contract's demo users: (organisation key, e-mail, name, role).
pub const USERS: &[(&str, &str, &str, Role)] = &[
    (WELFARE_HOUSE, "admin@welzijnshuis.test", "Annelies Vandenberghe", Role::Admin),
    (WELFARE_HOUSE, "onthaal@welzijnshuis.test", "Sofie Declercq", Role::Intake),
    (WELFARE_HOUSE, "maatschappelijk.werker@welzijnshuis.test", "Pieter Vanneste", Role::CaseWorker),
    (WELFARE_HOUSE, "analist@welzijnshuis.test", "Jonas Deprez", Role::Analyst),
    ("caw", "medewerker@caw.test", "Lien Vermeulen", Role::Partner),
    ("pension", "medewerker@pensioendienst.test", "Marc Lefebvre", Role::Partner),
    ("dyzo", "medewerker@dyzo.test", "Katrien Desmet", Role::Partner),
    ("woonclub", "medewerker@woonclub.test", "Youssef El Amrani", Role::Partner),
];

/// The partners that receive referrals, with the life domains their services answer.
const PARTNERS: &[(&str, &[LifeDomain])] = &[
    (
        "caw",
        &[
            LifeDomain::FamilyAndFriends,
            LifeDomain::Housing,
            LifeDomain::Finances,
            LifeDomain::MentalHealth,
            LifeDomain::AdministrationAndRights,
        ],
    ),
    ("pension", &[LifeDomain::Finances, LifeDomain::AdministrationAndRights]),
    ("dyzo", &[LifeDomain::Work, LifeDomain::Finances, LifeDomain::MentalHealth]),
    ("woonclub", &[LifeDomain::Housing]),
];

/// The demo is the same on every machine.
const SEED: u64 = 2026;
const REFERRALS: usize = 64;
const CLIENTS: usize = 48;

impl Demo {
    fn build(now: DateTime<Utc>, scale: Scale) -> Self {
        let mut demo = Demo::default();
        let mut rng = Rng::with_seed(SEED);
        let orgs = demo.social_map(&mut rng, now);
        let users = demo.people(&mut rng, &orgs, now);
        demo.trajectories(&mut rng, &orgs, &users, now, scale);
        demo.daily_work(&users, now);
        demo.citizens(&orgs, &users, now);
        // Last, so that the seeded draws of everything before stay as they were.
        demo.holiday_closure(&mut rng, &orgs, &users, now);
        demo
    }

    fn social_map(&mut self, rng: &mut Rng, now: DateTime<Utc>) -> HashMap<&'static str, Uuid> {
        let six_months_ago = now - Duration::days(190);
        let mut orgs = HashMap::new();
        for org in ORGS {
            let id = id(rng);
            orgs.insert(org.key, id);
            self.organisations.push(organisation::Model {
                id,
                name: org.name.into(),
                kind: org.kind,
                is_network_partner: org.partner,
                description: Some(org.description.into()),
                url: Some(org.url.into()),
                email: None,
                phone: Some(org.phone.into()),
                hsds_id: Some(format!("demo-org-{}", org.key)),
                imported_from: None,
                created_at: six_months_ago,
                kind_label: None,
                active: true,
                deactivated_at: None,
            });
        }
        let mut places = HashMap::new();
        for place in PLACES {
            let id = id(rng);
            places.insert(place.key, id);
            self.locations.push(location::Model {
                id,
                organisation_id: Some(orgs[place.org]),
                name: Some(place.name.into()),
                street: Some(place.street.into()),
                postcode: place.postcode.into(),
                municipality: place.municipality.into(),
                latitude: Some(place.lat),
                longitude: Some(place.lon),
                confidential: place.confidential,
                hsds_id: Some(format!("demo-location-{}", place.key)),
                imported_from: None,
            });
        }
        for (n, svc) in SERVICES.iter().enumerate() {
            let service_id = id(rng);
            self.services.push(service::Model {
                id: service_id,
                organisation_id: orgs[svc.org],
                name: svc.name.into(),
                description: Some(svc.description.into()),
                url: None,
                email: None,
                phone: None,
                status: ServiceStatus::Active,
                eligibility: Some(svc.eligibility.into()),
                fees: Some(svc.fees.into()),
                application_process: Some(
                    "Kom langs tijdens de openingsuren of maak een afspraak via het Welzijnshuis.".into(),
                ),
                assured_date: Some((now - Duration::days(7 + (n as i64 * 3) % 60)).date_naive()),
                alert: None,
                hsds_id: Some(format!("demo-service-{n:02}")),
                imported_from: None,
                import_digest: None,
                created_at: six_months_ago,
                updated_at: six_months_ago,
            });
            for &life_domain in svc.domains {
                self.service_life_domains.push(service_life_domain::Model { service_id, life_domain });
            }
            for &language in svc.languages {
                self.service_languages
                    .push(service_language::Model { service_id, language: language.into() });
            }
            for place in svc.places {
                self.service_at_locations.push(service_at_location::Model {
                    id: id(rng),
                    service_id,
                    location_id: places[place],
                });
            }
            for (weekday, opens, closes) in parse_hours(svc.hours) {
                self.schedules.push(schedule::Model {
                    id: id(rng),
                    service_id,
                    location_id: None,
                    weekday,
                    opens_minute: opens,
                    closes_minute: closes,
                    valid_from: None,
                    valid_to: None,
                    description: None,
                });
            }
        }
        for &(org, weekday, from, to, slot) in OFFICE_HOURS {
            self.office_hours.push(office_hour::Model {
                id: id(rng),
                organisation_id: orgs[org],
                location_id: places["wh"],
                weekday,
                starts_minute: minutes(from),
                ends_minute: minutes(to),
                slot_minutes: slot,
                valid_from: None,
                valid_to: None,
            });
        }
        orgs
    }

    /// CAW closes its office hours on the first public holiday that falls on one of its days
    /// (Tuesday or Thursday), at least two weeks ahead: `officeHours` shows the day without
    /// slots and `officeHoursClosures` says why. (Two weeks, so that the tests' bookings in the
    /// coming week never meet it.)
    fn holiday_closure(
        &mut self,
        rng: &mut Rng,
        orgs: &HashMap<&'static str, Uuid>,
        users: &HashMap<&'static str, Uuid>,
        now: DateTime<Utc>,
    ) {
        let from = (now + Duration::days(14)).date_naive();
        let Some((day, holiday)) = holidays::next_on(from, &[2, 4]) else { return };
        self.office_hours_closures.push(office_hours_closure::Model {
            id: id(rng),
            organisation_id: orgs["caw"],
            starts_on: day,
            ends_on: day,
            reason: format!("Wettelijke feestdag ({holiday}): geen zitdag"),
            cancelled_appointments: 0,
            created_by: Some(users["medewerker@caw.test"]),
            created_at: now - Duration::days(3),
            lifted_at: None,
            lifted_by: None,
        });
    }

    fn people(
        &mut self,
        rng: &mut Rng,
        orgs: &HashMap<&'static str, Uuid>,
        now: DateTime<Utc>,
    ) -> HashMap<&'static str, Uuid> {
        let mut users = HashMap::new();
        for &(org, email, name, role) in USERS {
            let id = id(rng);
            users.insert(email, id);
            self.users.push(user::Model {
                id,
                email: email.into(),
                name: name.into(),
                role,
                organisation_id: orgs[org],
                active: true,
                created_at: now - Duration::days(200),
                oidc_subject: None,
            });
        }
        users
    }

    fn trajectories(
        &mut self,
        rng: &mut Rng,
        orgs: &HashMap<&'static str, Uuid>,
        users: &HashMap<&'static str, Uuid>,
        now: DateTime<Utc>,
        scale: Scale,
    ) {
        let intake = users["onthaal@welzijnshuis.test"];
        let case_worker = users["maatschappelijk.werker@welzijnshuis.test"];
        let welfare_house = orgs[WELFARE_HOUSE];

        // Clients, each with a help request opened some time in the past six months.
        let mut help_of_client = Vec::new();
        let mut national_numbers = std::collections::HashSet::new();
        for n in 0..scale.clients {
            let mut client = people::client(rng, n, intake, now);
            // At scale, numbers made from birth date and serial repeat: the later one has none.
            if let Some(number) = &client.national_register_number
                && !national_numbers.insert(number.clone())
            {
                client.national_register_number = None;
            }
            let opened_at = client.created_at;
            let domains = people::domains(rng);
            let help = help_request::Model {
                id: id(rng),
                client_id: client.id,
                summary: people::summary(rng, &domains),
                channel: people::CHANNELS[rng.usize(..people::CHANNELS.len())].into(),
                status: HelpRequestStatus::Open,
                opened_by: Some(intake),
                opened_at,
                closed_at: None,
                outcome: None,
                closed_by: None,
            };
            for &life_domain in &domains {
                self.help_request_life_domains
                    .push(help_request_life_domain::Model { help_request_id: help.id, life_domain });
            }
            if n % 3 == 0 {
                let note_id = id(rng);
                self.case_notes.push(case_note::Model {
                    id: note_id,
                    client_id: client.id,
                    help_request_id: Some(help.id),
                    thread_id: note_id,
                    version: 1,
                    author_id: case_worker,
                    body: people::CASE_NOTES[n % people::CASE_NOTES.len()].into(),
                    shared_with_client: false,
                    noted_at: opened_at + Duration::hours(2),
                    created_at: opened_at + Duration::hours(2),
                    superseded_at: None,
                });
            }
            help_of_client.push((client.id, help.id, opened_at));
            self.help_requests.push(help);
            self.clients.push(client);
        }

        // Referrals to the four partners, in every status; a few sent on by CAW.
        let statuses = [
            ReferralStatus::Requested,
            ReferralStatus::Received,
            ReferralStatus::Accepted,
            ReferralStatus::InProgress,
            ReferralStatus::Completed,
            ReferralStatus::Rejected,
            ReferralStatus::Cancelled,
            ReferralStatus::Completed,
        ];
        let mut consented: HashMap<(Uuid, Uuid), usize> = HashMap::new();
        let mut services_of: HashMap<(Uuid, LifeDomain), Option<Uuid>> = HashMap::new();
        for n in 0..scale.referrals {
            let (partner_key, domains) = PARTNERS[n % PARTNERS.len()];
            let recipient = orgs[partner_key];
            let (sender, sender_user) = if n % 9 == 4 && partner_key != "caw" {
                (orgs["caw"], users["medewerker@caw.test"])
            } else {
                (welfare_house, if n % 2 == 0 { intake } else { case_worker })
            };
            let recipient_user = users[partner_user(partner_key)];
            let (client_id, help_id, opened_at) = help_of_client[(n * 7 + n / 5) % scale.clients];
            let status = statuses[(n + n / 8) % statuses.len()];
            let life_domain = domains[rng.usize(..domains.len())];

            // Spread creation over the six months after the help request was opened.
            let span = (now - opened_at).num_hours().max(2);
            let created_at = opened_at + Duration::hours(1 + rng.i64(0..span.min(24 * 30)));
            let referral_id = id(rng);
            let path = path_to(status);
            let mut at = created_at;
            let mut events = Vec::new();
            for (i, &to) in path.iter().enumerate() {
                if i > 0 {
                    // Capped before now, each step 5 minutes after the last: a history's
                    // events never share a moment, so their order is their time order.
                    let latest = now - Duration::minutes(5 * (path.len() - i) as i64);
                    at = (at + Duration::hours(rng.i64(3..150))).min(latest);
                }
                let by_sender = i == 0 || to == ReferralStatus::Cancelled;
                let (actor_org, actor) =
                    if by_sender { (sender, sender_user) } else { (recipient, recipient_user) };
                let note = match to {
                    ReferralStatus::Completed => {
                        Some(people::OUTCOMES[n % people::OUTCOMES.len()].to_string())
                    }
                    ReferralStatus::Rejected => {
                        Some(people::REJECTIONS[n % people::REJECTIONS.len()].1.to_string())
                    }
                    ReferralStatus::Cancelled => Some("Cliënt vond intussen zelf een oplossing.".to_string()),
                    _ => None,
                };
                events.push(referral_event::Model {
                    id: id(rng),
                    referral_id,
                    from_status: i.checked_sub(1).map(|p| path[p]),
                    to_status: to,
                    note_for_client: note_for_client(to),
                    note,
                    rejection_reason: (to == ReferralStatus::Rejected)
                        .then(|| people::REJECTIONS[n % people::REJECTIONS.len()].0),
                    actor_user_id: Some(actor),
                    actor_organisation_id: Some(actor_org),
                    at,
                });
            }
            let last = events.last().cloned().expect("a path has at least the creation");
            self.referrals.push(referral::Model {
                id: referral_id,
                client_id,
                help_request_id: Some(help_id),
                sender_id: sender,
                recipient_id: recipient,
                service_id: *services_of
                    .entry((recipient, life_domain))
                    .or_insert_with(|| self.service_of(recipient, life_domain)),
                life_domain,
                reason: people::reason(life_domain).into(),
                status,
                version: events.len() as i32,
                outcome_note: last.note.clone().filter(|_| status != ReferralStatus::Cancelled),
                rejection_reason: last.rejection_reason,
                created_by: Some(sender_user),
                idempotency_key: None,
                created_at,
                updated_at: last.at,
            });
            self.referral_events.extend(events);

            // The consent that made the referral possible, given just before it.
            if let std::collections::hash_map::Entry::Vacant(slot) = consented.entry((client_id, recipient)) {
                slot.insert(self.consents.len());
                self.consents.push(consent::Model {
                    id: id(rng),
                    client_id,
                    recipient_id: recipient,
                    scope_identity: true,
                    scope_contact: n % 5 != 3,
                    scope_national_number: partner_key == "pension" || n % 4 == 0,
                    scope_situation: n % 3 != 2,
                    purpose: format!("Doorverwijzing voor {}", people::domain_label(life_domain)),
                    recorded_by: Some(intake),
                    given_at: created_at - Duration::minutes(30),
                    revoked_at: None,
                    revoked_by: None,
                    given_by_client: false,
                    revoked_by_client: false,
                });
            }
        }
        self.close_finished_help_requests(now);
        self.revoke_some_consents(case_worker);
    }

    /// The first service of the organisation that answers the life domain.
    fn service_of(&self, org: Uuid, domain: LifeDomain) -> Option<Uuid> {
        self.services
            .iter()
            .filter(|s| s.organisation_id == org)
            .find(|s| {
                self.service_life_domains.iter().any(|d| d.service_id == s.id && d.life_domain == domain)
            })
            .map(|s| s.id)
    }

    /// A help request whose referrals all reached a final status is closed.
    fn close_finished_help_requests(&mut self, now: DateTime<Utc>) {
        let mut by_help: HashMap<Uuid, Vec<&referral::Model>> = HashMap::new();
        for r in &self.referrals {
            if let Some(help) = r.help_request_id {
                by_help.entry(help).or_default().push(r);
            }
        }
        for help in &mut self.help_requests {
            let referrals = by_help.get(&help.id).map(Vec::as_slice).unwrap_or_default();
            if !referrals.is_empty() && referrals.iter().all(|r| r.status.is_final()) {
                let closed = referrals.iter().map(|r| r.updated_at).max().unwrap_or(now);
                help.status = HelpRequestStatus::Closed;
                help.closed_at = Some(closed + Duration::hours(1));
            }
        }
    }

    /// Some clients withdrew consent after their trajectory ended.
    fn revoke_some_consents(&mut self, by: Uuid) {
        let mut pairs: HashMap<(Uuid, Uuid), Vec<&referral::Model>> = HashMap::new();
        for r in &self.referrals {
            pairs.entry((r.client_id, r.recipient_id)).or_default().push(r);
        }
        for (n, consent) in self.consents.iter_mut().enumerate() {
            let referrals =
                pairs.get(&(consent.client_id, consent.recipient_id)).map(Vec::as_slice).unwrap_or_default();
            if referrals.iter().all(|r| r.status.is_final()) && n % 4 == 1 {
                consent.revoked_at =
                    referrals.iter().map(|r| r.updated_at).max().map(|t| t + Duration::hours(2));
                consent.revoked_by = Some(by);
            }
        }
    }
}

fn partner_user(key: &str) -> &'static str {
    match key {
        "caw" => "medewerker@caw.test",
        "pension" => "medewerker@pensioendienst.test",
        "dyzo" => "medewerker@dyzo.test",
        _ => "medewerker@woonclub.test",
    }
}

/// What the organisation tells the client when a referral reaches `status`, on the answered steps.
fn note_for_client(status: ReferralStatus) -> Option<String> {
    let note = match status {
        ReferralStatus::Accepted => "We nemen je vraag op. Je hoort binnen de week van ons.",
        ReferralStatus::Completed => "Je traject bij ons is afgerond. Je kan altijd opnieuw bij ons terecht.",
        ReferralStatus::Rejected => {
            "We kunnen je hier niet verder helpen; het Welzijnshuis zoekt met jou een andere weg."
        }
        _ => return None,
    };
    Some(note.into())
}

/// The statuses a referral passes through to reach `status`.
fn path_to(status: ReferralStatus) -> Vec<ReferralStatus> {
    use ReferralStatus::*;
    match status {
        Requested => vec![Requested],
        Received => vec![Requested, Received],
        Accepted => vec![Requested, Received, Accepted],
        InProgress => vec![Requested, Received, Accepted, InProgress],
        Completed => vec![Requested, Received, Accepted, InProgress, Completed],
        Rejected => vec![Requested, Received, Rejected],
        Cancelled => vec![Requested, Cancelled],
    }
}

/// A random (seeded) version-4 UUID.
fn id(rng: &mut Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// `HH:MM` as minutes after midnight.
fn minutes(hhmm: &str) -> i32 {
    let (h, m) = hhmm.split_once(':').unwrap_or((hhmm, "0"));
    h.parse::<i32>().unwrap_or(0) * 60 + m.parse::<i32>().unwrap_or(0)
}

/// Parses the compact weekly hours of the social map table: `1-5 09:00-12:00; 2,4 13:30-16:30`.
fn parse_hours(hours: &str) -> Vec<(i32, i32, i32)> {
    let mut out = Vec::new();
    for part in hours.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (days, times) = part.split_once(' ').unwrap_or((part, ""));
        let (from, to) = times.split_once('-').unwrap_or(("00:00", "24:00"));
        for day in days.split(',') {
            let (first, last) = match day.split_once('-') {
                Some((a, b)) => (a.parse().unwrap_or(1), b.parse().unwrap_or(7)),
                None => (day.parse().unwrap_or(1), day.parse().unwrap_or(1)),
            };
            for weekday in first..=last {
                out.push((weekday, minutes(from), minutes(to)));
            }
        }
    }
    out
}

/// A birth date's national register number, for the demo clients.
fn national_number(date: NaiveDate, serial: u16) -> String {
    NationalRegisterNumber::for_birth(date, serial).into_string()
}
