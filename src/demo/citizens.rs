//! Demo clients who can sign in as themselves (role CLIENT), with a fixed national register
//! number each (README, "The client's own view"), and a file worth looking at: referrals to two
//! partners in various statuses with a word for them on the answered steps, consents recorded at
//! the desk and given by themselves in the app (one of these withdrawn by themselves), an
//! appointment at a partner's office hours, a case note shared with them and one not, and an
//! access log of the staff and partner reads of their data. Drawn from a generator of its own,
//! so that the rest of the demo stays as it was.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entities::*;
use fastrand::Rng;
use uuid::Uuid;

use super::social_map::WELFARE_HOUSE;
use super::{Demo, PARTNERS, SEED, id, partner_user, path_to};

/// A demo client who can sign in.
pub struct Citizen {
    /// Which of the demo's clients (the same one at every scale).
    index: usize,
    /// Their birth date and serial, which make their national register number.
    born: (i32, u32, u32),
    serial: u16,
    /// The partner the welfare house referred them to lately, and how far that got.
    referred_to: &'static str,
    status: ReferralStatus,
    /// The partner they gave consent to in the app, and withdrew it from later.
    withdrawn_from: &'static str,
}

impl Citizen {
    /// Their national register number, 11 digits.
    pub fn national_register_number(&self) -> String {
        let (year, month, day) = self.born;
        super::national_number(NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default(), self.serial)
    }

    fn born(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.born.0, self.born.1, self.born.2).unwrap_or_default()
    }
}

/// The demo's citizens; each is already referred to one partner by the trajectories.
pub const CITIZENS: &[Citizen] = &[
    Citizen {
        index: 7,
        born: (1958, 3, 14),
        serial: 121,
        referred_to: "woonclub",
        status: ReferralStatus::InProgress,
        withdrawn_from: "dyzo",
    },
    Citizen {
        index: 28,
        born: (1987, 11, 2),
        serial: 64,
        referred_to: "pension",
        status: ReferralStatus::Accepted,
        withdrawn_from: "dyzo",
    },
    Citizen {
        index: 36,
        born: (1949, 6, 21),
        serial: 215,
        referred_to: "caw",
        status: ReferralStatus::Completed,
        withdrawn_from: "woonclub",
    },
    Citizen {
        index: 43,
        born: (2001, 9, 30),
        serial: 88,
        referred_to: "woonclub",
        status: ReferralStatus::InProgress,
        withdrawn_from: "caw",
    },
];

/// Who did what in a citizen's file.
struct Staff {
    intake: Uuid,
    case_worker: Uuid,
    welfare_house: Uuid,
}

impl Demo {
    /// Gives the demo's citizens their numbers and what they look at when they sign in.
    pub(super) fn citizens(
        &mut self,
        orgs: &HashMap<&'static str, Uuid>,
        users: &HashMap<&'static str, Uuid>,
        now: DateTime<Utc>,
    ) {
        let mut rng = Rng::with_seed(SEED + 2);
        let staff = Staff {
            intake: users["onthaal@welzijnshuis.test"],
            case_worker: users["maatschappelijk.werker@welzijnshuis.test"],
            welfare_house: orgs[WELFARE_HOUSE],
        };
        for (n, citizen) in CITIZENS.iter().enumerate() {
            // Weeks apart, so that each file tells its own story.
            let since = now - Duration::days(60 - 12 * n as i64);
            let Some(client) = self.number_citizen(citizen, since) else { continue };
            let partner = orgs[citizen.referred_to];
            let partner_user = users[partner_user(citizen.referred_to)];
            let referral =
                self.refer_citizen(&mut rng, citizen, client, (partner, partner_user), &staff, since, now);
            self.consent_in_the_app(&mut rng, client, orgs[citizen.withdrawn_from], since, now);
            self.book_appointment(&mut rng, client, &referral, n % 2 == 0, staff.intake, now);
            self.note_for_citizen(&mut rng, client, referral.help_request_id, staff.case_worker, since);
            self.access_log(&mut rng, client, &referral, (partner, partner_user), &staff, now);
        }
    }

    /// Sets the citizen's birth date and number (no other client keeps that number), registered
    /// by `since` at the latest; their id.
    fn number_citizen(&mut self, citizen: &Citizen, since: DateTime<Utc>) -> Option<Uuid> {
        let number = citizen.national_register_number();
        for client in &mut self.clients {
            if client.national_register_number.as_deref() == Some(number.as_str()) {
                client.national_register_number = None;
            }
        }
        let client = self.clients.get_mut(citizen.index)?;
        client.date_of_birth = Some(citizen.born());
        client.national_register_number = Some(number);
        client.created_at = client.created_at.min(since - Duration::days(1));
        client.updated_at = client.updated_at.min(client.created_at);
        Some(client.id)
    }

    /// A new help request and the referral it led to, with the consent the citizen gave for it
    /// in the app themself; the referral.
    #[allow(clippy::too_many_arguments)]
    fn refer_citizen(
        &mut self,
        rng: &mut Rng,
        citizen: &Citizen,
        client: Uuid,
        (partner, partner_user): (Uuid, Uuid),
        staff: &Staff,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> referral::Model {
        let domains = PARTNERS.iter().find(|(key, _)| *key == citizen.referred_to).map_or(&[][..], |p| p.1);
        let life_domain = domains.first().copied().unwrap_or(LifeDomain::AdministrationAndRights);
        let help = help_request::Model {
            id: id(rng),
            client_id: client,
            summary: super::people::summary(rng, &[life_domain]),
            channel: "DESK".into(),
            status: HelpRequestStatus::Open,
            opened_by: Some(staff.intake),
            opened_at: since,
            closed_at: None,
            outcome: None,
            closed_by: None,
        };
        self.help_request_life_domains
            .push(help_request_life_domain::Model { help_request_id: help.id, life_domain });
        self.consents.push(consent::Model {
            id: id(rng),
            client_id: client,
            recipient_id: partner,
            scope_identity: true,
            scope_contact: true,
            scope_national_number: false,
            scope_situation: true,
            purpose: format!("Doorverwijzing voor {}", super::people::domain_label(life_domain)),
            recorded_by: None,
            given_at: since + Duration::hours(20),
            revoked_at: None,
            revoked_by: None,
            given_by_client: true,
            revoked_by_client: false,
        });
        let referral_id = id(rng);
        let created_at = since + Duration::days(1);
        let path = path_to(citizen.status);
        let mut events = Vec::new();
        for (i, &to) in path.iter().enumerate() {
            // Two days a step, the last one at least a day ago.
            let at = (created_at + Duration::days(2 * i as i64))
                .min(now - Duration::days(1) - Duration::hours((path.len() - i) as i64));
            let (actor_org, actor) =
                if i == 0 { (staff.welfare_house, staff.case_worker) } else { (partner, partner_user) };
            events.push(referral_event::Model {
                id: id(rng),
                referral_id,
                from_status: i.checked_sub(1).map(|p| path[p]),
                to_status: to,
                note: (to == ReferralStatus::Completed).then(|| super::people::OUTCOMES[1].to_string()),
                note_for_client: super::note_for_client(to),
                rejection_reason: None,
                actor_user_id: Some(actor),
                actor_organisation_id: Some(actor_org),
                at,
            });
        }
        let last_at = events.last().map_or(created_at, |e| e.at);
        let referral = referral::Model {
            id: referral_id,
            client_id: client,
            help_request_id: Some(help.id),
            sender_id: staff.welfare_house,
            recipient_id: partner,
            service_id: self.service_of(partner, life_domain),
            life_domain,
            reason: super::people::reason(life_domain).into(),
            status: citizen.status,
            version: events.len() as i32,
            outcome_note: events.last().and_then(|e| e.note.clone()),
            rejection_reason: None,
            created_by: Some(staff.case_worker),
            idempotency_key: None,
            created_at,
            updated_at: last_at,
        };
        let help = if citizen.status.is_final() {
            help_request::Model {
                status: HelpRequestStatus::Closed,
                closed_at: Some(last_at + Duration::hours(1)),
                ..help
            }
        } else {
            help
        };
        self.help_requests.push(help);
        self.referral_events.extend(events);
        self.referrals.push(referral.clone());
        referral
    }

    /// A consent the citizen gave in the app to another partner, and withdrew a week later.
    fn consent_in_the_app(
        &mut self,
        rng: &mut Rng,
        client: Uuid,
        recipient: Uuid,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let given_at = since + Duration::days(3);
        self.consents.push(consent::Model {
            id: id(rng),
            client_id: client,
            recipient_id: recipient,
            scope_identity: true,
            scope_contact: true,
            scope_national_number: false,
            scope_situation: false,
            purpose: "Informatie over de werking, op eigen vraag".into(),
            recorded_by: None,
            given_at,
            revoked_at: Some((given_at + Duration::days(7)).min(now - Duration::days(1))),
            revoked_by: None,
            given_by_client: true,
            revoked_by_client: true,
        });
    }

    /// The citizen's visit to the partner's office hours at the welfare house last week (or the
    /// week before), booked by themselves or at the desk.
    fn book_appointment(
        &mut self,
        rng: &mut Rng,
        client: Uuid,
        referral: &referral::Model,
        by_themselves: bool,
        intake: Uuid,
        now: DateTime<Utc>,
    ) {
        // The first free slot of the partner's office hours a week or two ago, as `officeHours`
        // lists it.
        let hours: Vec<_> = self
            .office_hours
            .iter()
            .filter(|h| h.organisation_id == referral.recipient_id)
            .cloned()
            .collect();
        let window = (now - Duration::days(14), now - Duration::days(7));
        let taken = |slot: &resolvers::office_hours::Slot| {
            self.appointments
                .iter()
                .any(|a| a.organisation_id == slot.organisation_id && a.starts_at == slot.starts_at)
        };
        let free = resolvers::office_hours::slots(&hours, window.0, window.1).into_iter().find(|s| !taken(s));
        let Some(slot) = free else {
            return;
        };
        let starts_at = slot.starts_at;
        self.appointments.push(appointment::Model {
            id: id(rng),
            organisation_id: referral.recipient_id,
            client_id: client,
            referral_id: Some(referral.id),
            starts_at,
            ends_at: slot.ends_at,
            active_slot: Some(starts_at),
            booked_by: (!by_themselves).then_some(intake),
            booked_by_client: by_themselves,
            created_at: starts_at - Duration::days(6),
            cancelled_at: None,
        });
    }

    /// A note the case worker shared with the citizen, and one kept for the staff.
    fn note_for_citizen(
        &mut self,
        rng: &mut Rng,
        client: Uuid,
        help: Option<Uuid>,
        author: Uuid,
        since: DateTime<Utc>,
    ) {
        for (body, shared) in [
            ("Samen je aanvraag voor de energiepremie ingediend; je krijgt bericht per brief.", true),
            ("Cliënt lijkt overbelast; volgende keer samen het budget overlopen.", false),
        ] {
            let note_id = id(rng);
            let at = since + Duration::hours(if shared { 3 } else { 4 });
            self.case_notes.push(case_note::Model {
                id: note_id,
                client_id: client,
                help_request_id: help,
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

    /// The reads of the citizen's data the audit log holds, as the requests that made them wrote
    /// them: the desk, the case worker's file, and the partner they were referred to (within
    /// their consent).
    fn access_log(
        &mut self,
        rng: &mut Rng,
        client: Uuid,
        referral: &referral::Model,
        (partner, partner_user): (Uuid, Uuid),
        staff: &Staff,
        now: DateTime<Utc>,
    ) {
        let reads = [
            (
                staff.intake,
                Role::Intake,
                staff.welfare_house,
                "CONTACT,IDENTITY,NATIONAL_NUMBER,SITUATION",
                "Desk",
                referral.created_at - Duration::hours(2),
            ),
            (
                staff.case_worker,
                Role::CaseWorker,
                staff.welfare_house,
                "CASE_NOTES,CONTACT,IDENTITY,SITUATION",
                "ClientFile",
                referral.created_at - Duration::hours(1),
            ),
            (
                partner_user,
                Role::Partner,
                partner,
                "CONTACT,IDENTITY,SITUATION",
                "IncomingReferrals",
                referral.created_at + Duration::hours(5),
            ),
        ];
        for (user, role, organisation, categories, operation, at) in reads {
            let at = at.min(now - Duration::days(1));
            // A time-ordered id, as the server gives each row it writes.
            let mut random = [0u8; 10];
            rng.fill(&mut random);
            let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
            self.audit_entries.push(audit_entry::Model {
                id: uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid(),
                at,
                user_id: Some(user),
                role,
                organisation_id: Some(organisation),
                action: "READ".into(),
                subject_type: "Client".into(),
                subject_id: Some(client),
                client_id: Some(client),
                categories: Some(categories.into()),
                operation_name: Some(operation.into()),
                request_id: Some(id(rng).to_string()),
                caller_request_id: None,
            });
        }
    }
}
