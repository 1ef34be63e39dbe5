//! Who may do what, where.
//!
//! Every request is authorised here and nowhere else: a role, a unit scope (a subtree of the
//! administrative tree, or the whole tree) and an action on a target. [`authorize`] is the
//! truth table of role × action × unit; the functions below it decide on resources — a
//! unit, an area's people, a household, a feedback item (its unit and agency), an account
//! (its reach), a recording of visits — and answer with a proof value, [`Granted`], that
//! only this module can make. The store's calls that read personal data or act on a
//! feedback item take such a proof, so a check that was forgotten does not compile.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::error::Invalid;
use crate::unit::UnitPath;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administers accounts, the tree and the catalogues within the scope.
    Admin,
    /// A commune or provincial official: follows coverage, manages teams and units below.
    Officer,
    /// Leads a team: records visits, manages the team.
    TeamLeader,
    /// A team member in the field: records visits.
    Member,
    /// Staff of an agency that answers citizen feedback.
    AgencyStaff,
    /// Reads figures, never personal data.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Officer, Role::TeamLeader, Role::Member, Role::AgencyStaff, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::TeamLeader => "team_leader",
            Role::Member => "member",
            Role::AgencyStaff => "agency_staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("role-invalid", "role").with_detail(s.trim()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a unit and its figures.
    ViewUnit,
    /// Create a unit under the target, rename or move the target.
    ManageUnit,
    /// Create, disable and reset accounts scoped at or under the target.
    ManageUsers,
    /// Open records with personal data (households, residents, contacts).
    ViewPersonalData,
    /// Record a door-to-door visit in the target.
    RecordVisit,
    /// Create and edit teams and their members.
    ManageTeams,
    /// Handle citizen feedback for the target.
    ProcessFeedback,
    /// Read the audit log.
    ViewAuditLog,
    /// Change system-wide settings: catalogues, API keys, categories.
    ManageSystem,
    /// Register and edit households and residents.
    EditHouseholds,
    /// Correct a subject's status against the forward-only rule; handle consent withdrawals
    /// and deletion requests.
    CorrectRecords,
    /// Enter data values (fees, signatures, installs…) for the target.
    EnterData,
    /// Record and run the target's creative models, trainings and events.
    ManageProgrammes,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::ViewUnit,
        Action::ManageUnit,
        Action::ManageUsers,
        Action::ViewPersonalData,
        Action::RecordVisit,
        Action::ManageTeams,
        Action::ProcessFeedback,
        Action::ViewAuditLog,
        Action::ManageSystem,
        Action::EditHouseholds,
        Action::CorrectRecords,
        Action::EnterData,
        Action::ManageProgrammes,
    ];
}

/// The part of the tree a user works in: the whole tree, or the subtree under one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Subtree(UnitPath),
}

impl Scope {
    /// Whether the target unit is inside the scope (the scope's own unit included).
    pub fn contains(&self, target: &UnitPath) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree(root) => root.contains(target),
        }
    }
    /// Whether the target is inside the scope and not its own unit.
    fn strictly_contains(&self, target: &UnitPath) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree(root) => root.strictly_contains(target),
        }
    }
}

/// How far an action reaches into a scope for a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Not allowed.
    Never,
    /// Allowed on the scope's unit and everything below it.
    Inside,
    /// Allowed only below the scope's unit (an officer may not rename their own commune).
    Below,
    /// Allowed only to users whose scope is the whole tree.
    Global,
}

fn reach(role: Role, action: Action) -> Reach {
    use Action::*;
    use Reach::*;
    match (role, action) {
        (_, ViewUnit) => Inside,

        (Role::Admin, ManageUnit) => Inside,
        (Role::Officer, ManageUnit) => Below,
        (_, ManageUnit) => Never,

        (Role::Admin, ManageUsers) => Inside,
        (_, ManageUsers) => Never,

        (Role::Admin | Role::Officer | Role::TeamLeader | Role::Member, ViewPersonalData) => Inside,
        (_, ViewPersonalData) => Never,

        (Role::Officer | Role::TeamLeader | Role::Member, RecordVisit) => Inside,
        (_, RecordVisit) => Never,

        (Role::Admin | Role::Officer | Role::TeamLeader, ManageTeams) => Inside,
        (_, ManageTeams) => Never,

        (Role::Admin | Role::Officer | Role::AgencyStaff, ProcessFeedback) => Inside,
        (_, ProcessFeedback) => Never,

        (Role::Admin, ViewAuditLog) => Inside,
        (_, ViewAuditLog) => Never,

        (Role::Admin, ManageSystem) => Global,
        (_, ManageSystem) => Never,

        (Role::Admin | Role::Officer | Role::TeamLeader | Role::Member, EditHouseholds) => Inside,
        (_, EditHouseholds) => Never,

        (Role::Admin | Role::Officer, CorrectRecords) => Inside,
        (_, CorrectRecords) => Never,

        (Role::Admin | Role::Officer, EnterData) => Inside,
        (_, EnterData) => Never,

        (Role::Admin | Role::Officer | Role::TeamLeader, ManageProgrammes) => Inside,
        (_, ManageProgrammes) => Never,
    }
}

/// What an authorisation is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A unit of the tree.
    Unit(&'a UnitPath),
    /// Nothing in particular: the action as a whole (a list filtered to the scope, a
    /// system setting).
    Anywhere,
}

/// Decides whether a user with `role` and `scope` may do `action` on `target`.
///
/// `Target::Anywhere` asks whether the user may do the action at all: for a scoped action
/// that means somewhere in their scope (a list is then filtered to it).
pub fn authorize(role: Role, scope: &Scope, action: Action, target: Target<'_>) -> bool {
    match (reach(role, action), target) {
        (Reach::Never, _) => false,
        (Reach::Global, _) => *scope == Scope::All,
        (Reach::Inside | Reach::Below, Target::Anywhere) => true,
        (Reach::Inside, Target::Unit(t)) => scope.contains(t),
        (Reach::Below, Target::Unit(t)) => scope.strictly_contains(t),
    }
}

/// Who is asking: everything a decision depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub scope: Scope,
    /// The agency an agency-staff account answers for.
    pub agency_id: Option<i64>,
}

/// Why a request is refused: the target is out of the actor's sight (answered as if it did
/// not exist, so that nothing is learnt of it), or in sight but the action is not theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    NotFound,
    Forbidden,
}

/// An action a [`Granted`] proves, as a type.
pub trait Permission {
    const ACTION: Action;
}

/// The actions as types, for [`Granted`].
pub mod may {
    use super::{Action, Permission};

    macro_rules! permissions {
        ($($name:ident),*) => {$(
            #[doc = concat!("May do [`Action::", stringify!($name), "`].")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$name;
            }
        )*};
    }

    permissions!(
        ViewUnit,
        ManageUnit,
        ManageUsers,
        ViewPersonalData,
        RecordVisit,
        ManageTeams,
        ProcessFeedback,
        ViewAuditLog,
        ManageSystem,
        EditHouseholds,
        CorrectRecords
    );
}

/// Proof that an actor may do `P` on `T`. Only this module makes one; the store's calls that
/// need a check take one, and write the actor into the audit log.
#[derive(Debug, Clone)]
pub struct Granted<P, T> {
    user_id: i64,
    on: T,
    _may: PhantomData<P>,
}

impl<P: Permission, T> Granted<P, T> {
    fn new(actor: &Actor, on: T) -> Self {
        Granted { user_id: actor.user_id, on, _may: PhantomData }
    }
    /// The actor's account.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }
    /// What the proof is about.
    pub fn on(&self) -> &T {
        &self.on
    }
    /// The action proved.
    pub fn action(&self) -> Action {
        P::ACTION
    }
}

impl Actor {
    /// Whether the actor may do `action` on the unit at `path`.
    pub fn can(&self, action: Action, path: &UnitPath) -> bool {
        authorize(self.role, &self.scope, action, Target::Unit(path))
    }

    /// Whether the actor may do `action` somewhere in their scope.
    pub fn can_anywhere(&self, action: Action) -> bool {
        authorize(self.role, &self.scope, action, Target::Anywhere)
    }

    /// The root of what the actor sees: `None` for the whole tree.
    pub fn scope_root(&self) -> Option<&UnitPath> {
        match &self.scope {
            Scope::All => None,
            Scope::Subtree(p) => Some(p),
        }
    }

    /// Whether the actor's scope is the whole tree.
    pub fn sees_everything(&self) -> bool {
        self.scope == Scope::All
    }
}

/// `P` on the unit at `path`: not found when the unit is out of sight, forbidden when it is
/// in sight but `P` is not the actor's there.
pub fn unit<P: Permission>(actor: &Actor, path: &UnitPath) -> Result<Granted<P, UnitPath>, Denied> {
    if !actor.can(Action::ViewUnit, path) {
        return Err(Denied::NotFound);
    }
    if !actor.can(P::ACTION, path) {
        return Err(Denied::Forbidden);
    }
    Ok(Granted::new(actor, path.clone()))
}

/// `P` somewhere in the actor's scope (a list then filtered to it, a system setting).
pub fn anywhere<P: Permission>(actor: &Actor) -> Result<Granted<P, ()>, Denied> {
    if actor.can_anywhere(P::ACTION) { Ok(Granted::new(actor, ())) } else { Err(Denied::Forbidden) }
}

/// An area of the tree, for a list of its people: a subtree, or the whole tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area(pub Option<UnitPath>);

/// `P` on everything in an area: the unit at `within` (checked as [`unit`]), or the actor's
/// whole scope when `None`.
pub fn area<P: Permission>(actor: &Actor, within: Option<&UnitPath>) -> Result<Granted<P, Area>, Denied> {
    match within.or(actor.scope_root()) {
        Some(path) => unit::<P>(actor, path).map(|g| Granted::new(actor, Area(Some(g.on)))),
        None => anywhere::<P>(actor).map(|_| Granted::new(actor, Area(None))),
    }
}

/// A household as the checks see it: its id and its unit's place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdPlace {
    pub id: i64,
    pub path: UnitPath,
}

/// `P` on a household: decided on its unit, as [`unit`].
pub fn household<P: Permission>(actor: &Actor, h: HouseholdPlace) -> Result<Granted<P, HouseholdPlace>, Denied> {
    unit::<P>(actor, &h.path)?;
    Ok(Granted::new(actor, h))
}

/// A team as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamPlace {
    pub id: i64,
    pub path: UnitPath,
}

/// Reading a team's members' names: those who see people (the viewer and agency staff see
/// a team's size and counts, not who is in it). Not found when the team is out of sight.
pub fn team_members(actor: &Actor, t: TeamPlace) -> Result<Granted<may::ViewPersonalData, TeamPlace>, Denied> {
    unit::<may::ViewPersonalData>(actor, &t.path)?;
    Ok(Granted::new(actor, t))
}

/// A feedback item as the checks see it: where it is and who answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackPlace {
    pub id: i64,
    pub unit_id: Option<i64>,
    /// The unit's place in the tree; `None` for an item with no unit.
    pub path: Option<UnitPath>,
    pub agency_id: Option<i64>,
}

/// Handling a feedback item (reading its contact, acting on it): agency staff the items of
/// their agency (in their scope, or with no unit), officers and administrators the items in
/// their scope. Anything else is not found. The proof carries the item's unit and agency as
/// checked: an action compares them with the item it locks, so an item reassigned meanwhile
/// is refused.
pub fn feedback_item(
    actor: &Actor,
    item: FeedbackPlace,
) -> Result<Granted<may::ProcessFeedback, FeedbackPlace>, Denied> {
    let in_scope = match &item.path {
        Some(path) => actor.can(Action::ProcessFeedback, path),
        None => actor.sees_everything() || actor.role == Role::AgencyStaff,
    };
    let allowed = match actor.role {
        Role::AgencyStaff => in_scope && actor.agency_id.is_some() && item.agency_id == actor.agency_id,
        Role::Admin | Role::Officer => in_scope,
        _ => false,
    };
    if allowed { Ok(Granted::new(actor, item)) } else { Err(Denied::NotFound) }
}

/// What a feedback inbox holds for an actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxScope {
    /// The subtree of their items; `None` for the whole tree.
    pub within: Option<UnitPath>,
    /// Whether items with no unit are theirs too.
    pub unitless: bool,
    /// The agency whose items alone they see (agency staff), if any.
    pub agency_id: Option<i64>,
    /// Whether they may filter by agency (officers and administrators).
    pub any_agency: bool,
}

/// The inbox of an actor who handles feedback: forbidden to others; an agency-staff
/// account without an agency has none (`None`).
pub fn feedback_inbox(actor: &Actor) -> Result<Option<InboxScope>, Denied> {
    anywhere::<may::ProcessFeedback>(actor)?;
    let staff = actor.role == Role::AgencyStaff;
    if staff && actor.agency_id.is_none() {
        return Ok(None);
    }
    Ok(Some(InboxScope {
        within: actor.scope_root().cloned(),
        unitless: actor.sees_everything() || staff,
        agency_id: if staff { actor.agency_id } else { None },
        any_agency: !staff,
    }))
}

/// Typing in feedback on a citizen's behalf: team members, officers and staff.
pub fn submit_for_citizen(actor: &Actor) -> Result<(), Denied> {
    if actor.can_anywhere(Action::RecordVisit) || actor.can_anywhere(Action::ProcessFeedback) {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// The right to record visits, as one recording of them sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub user_id: i64,
    role: Role,
    scope: Scope,
}

impl Recording {
    /// Whether only the actor's own teams (those they are an active member of) may record:
    /// everyone but officers, who record for any team of their scope.
    pub fn members_only(&self) -> bool {
        self.role != Role::Officer
    }
    /// Whether a team whose unit is at `path` may record under this right (membership aside).
    pub fn may_record(&self, path: &UnitPath) -> bool {
        authorize(self.role, &self.scope, Action::RecordVisit, Target::Unit(path))
    }
}

/// Recording visits: forbidden to those who never do.
pub fn recording(actor: &Actor) -> Result<Recording, Denied> {
    anywhere::<may::RecordVisit>(actor)?;
    Ok(Recording { user_id: actor.user_id, role: actor.role, scope: actor.scope.clone() })
}

/// Creating a unit directly under `parent` (a root when `None`): a unit that would sit there
/// is checked, so an officer may add below their commune but not beside it.
pub fn create_unit_under(actor: &Actor, parent: Option<&UnitPath>) -> Result<(), Denied> {
    let ok = match parent {
        Some(pp) => actor.can(Action::ManageUnit, &pp.child(0)),
        None => actor.sees_everything() && actor.can_anywhere(Action::ManageUnit),
    };
    if ok { Ok(()) } else { Err(Denied::Forbidden) }
}

/// How far an account reaches: its role and scope (agency staff also handle their agency's
/// items with no unit, wherever they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountReach {
    pub role: Role,
    pub scope: Scope,
}

impl AccountReach {
    /// Whether everything this reach covers lies within `other`'s scope. Agency staff handle
    /// items with no unit, which lie in no subtree: only the whole tree holds their reach.
    fn within(&self, other: &Scope) -> bool {
        match (other, &self.scope) {
            (Scope::All, _) => true,
            (Scope::Subtree(_), _) if self.role == Role::AgencyStaff => false,
            (Scope::Subtree(_), Scope::All) => false,
            (Scope::Subtree(root), Scope::Subtree(p)) => root.contains(p),
        }
    }
}

/// Whether an account is scoped to a unit or the whole tree: only administrators may have
/// the whole tree.
pub fn account_needs_unit(role: Role) -> bool {
    role != Role::Admin
}

/// Managing an account (creating it, disabling, enabling, resetting its password): only
/// administrators, only accounts whose reach lies within their own, never their own. An
/// account out of sight (its unit outside the scope) is not found.
pub fn manage_account(
    actor: &Actor,
    account_id: Option<i64>,
    target: &AccountReach,
) -> Result<Granted<may::ManageUsers, Option<i64>>, Denied> {
    anywhere::<may::ManageUsers>(actor).map_err(|_| Denied::Forbidden)?;
    let visible = match (&target.scope, &actor.scope) {
        (_, Scope::All) => true,
        (Scope::Subtree(p), Scope::Subtree(root)) => root.contains(p),
        (Scope::All, Scope::Subtree(_)) => false,
    };
    if !visible {
        return Err(Denied::NotFound);
    }
    if account_id == Some(actor.user_id) || !target.within(&actor.scope) {
        return Err(Denied::Forbidden);
    }
    if let Scope::Subtree(p) = &target.scope
        && !actor.can(Action::ManageUsers, p)
    {
        return Err(Denied::Forbidden);
    }
    Ok(Granted::new(actor, account_id))
}

#[cfg(test)]
mod tests;
