//! Who may do what, where.
//!
//! Every request is authorised by [`authorize`]: a role, a unit scope (a subtree of the
//! administrative tree, or the whole tree) and an action on a target unit. Pages and the API
//! both call it; nothing else decides.

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
}

impl Action {
    pub const ALL: [Action; 11] = [
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the target sits relative to the user's scope.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Rel {
        /// The user's own unit.
        Same,
        /// A descendant of the user's unit.
        Below,
        /// An ancestor of the user's unit.
        Above,
        /// A unit in another branch.
        Elsewhere,
    }

    const RELS: [Rel; 4] = [Rel::Same, Rel::Below, Rel::Above, Rel::Elsewhere];

    fn paths() -> (UnitPath, [(Rel, UnitPath); 4]) {
        let province = UnitPath::root(1);
        let commune = province.child(2).child(3);
        let hamlet = commune.child(4);
        let other = province.child(9).child(10);
        (commune.clone(), [(Rel::Same, commune), (Rel::Below, hamlet), (Rel::Above, province), (Rel::Elsewhere, other)])
    }

    /// The expected answer, written out by hand for every role × action × relation, for a
    /// user scoped to one commune. `S` = same unit, `B` = below, `A` = above, `E` = elsewhere.
    fn expected_scoped(role: Role, action: Action, rel: Rel) -> bool {
        use Action::*;
        let table: &[(Role, Action, &str)] = &[
            (Role::Admin, ViewUnit, "SB"),
            (Role::Admin, ManageUnit, "SB"),
            (Role::Admin, ManageUsers, "SB"),
            (Role::Admin, ViewPersonalData, "SB"),
            (Role::Admin, RecordVisit, ""),
            (Role::Admin, ManageTeams, "SB"),
            (Role::Admin, ProcessFeedback, "SB"),
            (Role::Admin, ViewAuditLog, "SB"),
            (Role::Admin, ManageSystem, ""),
            (Role::Admin, EditHouseholds, "SB"),
            (Role::Admin, CorrectRecords, "SB"),
            (Role::Officer, ViewUnit, "SB"),
            (Role::Officer, ManageUnit, "B"),
            (Role::Officer, ManageUsers, ""),
            (Role::Officer, ViewPersonalData, "SB"),
            (Role::Officer, RecordVisit, "SB"),
            (Role::Officer, ManageTeams, "SB"),
            (Role::Officer, ProcessFeedback, "SB"),
            (Role::Officer, ViewAuditLog, ""),
            (Role::Officer, ManageSystem, ""),
            (Role::Officer, EditHouseholds, "SB"),
            (Role::Officer, CorrectRecords, "SB"),
            (Role::TeamLeader, ViewUnit, "SB"),
            (Role::TeamLeader, ManageUnit, ""),
            (Role::TeamLeader, ManageUsers, ""),
            (Role::TeamLeader, ViewPersonalData, "SB"),
            (Role::TeamLeader, RecordVisit, "SB"),
            (Role::TeamLeader, ManageTeams, "SB"),
            (Role::TeamLeader, ProcessFeedback, ""),
            (Role::TeamLeader, ViewAuditLog, ""),
            (Role::TeamLeader, ManageSystem, ""),
            (Role::TeamLeader, EditHouseholds, "SB"),
            (Role::TeamLeader, CorrectRecords, ""),
            (Role::Member, ViewUnit, "SB"),
            (Role::Member, ManageUnit, ""),
            (Role::Member, ManageUsers, ""),
            (Role::Member, ViewPersonalData, "SB"),
            (Role::Member, RecordVisit, "SB"),
            (Role::Member, ManageTeams, ""),
            (Role::Member, ProcessFeedback, ""),
            (Role::Member, ViewAuditLog, ""),
            (Role::Member, ManageSystem, ""),
            (Role::Member, EditHouseholds, "SB"),
            (Role::Member, CorrectRecords, ""),
            (Role::AgencyStaff, ViewUnit, "SB"),
            (Role::AgencyStaff, ManageUnit, ""),
            (Role::AgencyStaff, ManageUsers, ""),
            (Role::AgencyStaff, ViewPersonalData, ""),
            (Role::AgencyStaff, RecordVisit, ""),
            (Role::AgencyStaff, ManageTeams, ""),
            (Role::AgencyStaff, ProcessFeedback, "SB"),
            (Role::AgencyStaff, ViewAuditLog, ""),
            (Role::AgencyStaff, ManageSystem, ""),
            (Role::AgencyStaff, EditHouseholds, ""),
            (Role::AgencyStaff, CorrectRecords, ""),
            (Role::Viewer, ViewUnit, "SB"),
            (Role::Viewer, ManageUnit, ""),
            (Role::Viewer, ManageUsers, ""),
            (Role::Viewer, ViewPersonalData, ""),
            (Role::Viewer, RecordVisit, ""),
            (Role::Viewer, ManageTeams, ""),
            (Role::Viewer, ProcessFeedback, ""),
            (Role::Viewer, ViewAuditLog, ""),
            (Role::Viewer, ManageSystem, ""),
            (Role::Viewer, EditHouseholds, ""),
            (Role::Viewer, CorrectRecords, ""),
        ];
        assert_eq!(table.len(), Role::ALL.len() * Action::ALL.len(), "the table covers every pair");
        let (_, _, allowed) = table
            .iter()
            .find(|(r, a, _)| *r == role && *a == action)
            .unwrap_or_else(|| panic!("no expectation for {role:?} × {action:?}"));
        let letter = match rel {
            Rel::Same => 'S',
            Rel::Below => 'B',
            Rel::Above => 'A',
            Rel::Elsewhere => 'E',
        };
        allowed.contains(letter)
    }

    /// For a user whose scope is the whole tree: whatever reaches below a scope, plus the
    /// system-wide actions.
    fn expected_global(role: Role, action: Action) -> bool {
        expected_scoped(role, action, Rel::Below) || (role == Role::Admin && action == Action::ManageSystem)
    }

    #[test]
    fn every_role_scope_and_action() {
        let (commune, targets) = paths();
        let scoped = Scope::Subtree(commune);
        let mut checked = 0;
        for role in Role::ALL {
            for action in Action::ALL {
                for (rel, target) in &targets {
                    assert_eq!(
                        authorize(role, &scoped, action, Target::Unit(target)),
                        expected_scoped(role, action, *rel),
                        "{role:?} scoped to a commune, {action:?} on a unit {rel:?}"
                    );
                    assert_eq!(
                        authorize(role, &Scope::All, action, Target::Unit(target)),
                        expected_global(role, action),
                        "{role:?} with the whole tree, {action:?} on a unit {rel:?}"
                    );
                    checked += 2;
                }
                let anywhere = RELS.iter().any(|r| expected_scoped(role, action, *r));
                assert_eq!(
                    authorize(role, &scoped, action, Target::Anywhere),
                    anywhere,
                    "{role:?} {action:?} anywhere"
                );
                assert_eq!(
                    authorize(role, &Scope::All, action, Target::Anywhere),
                    expected_global(role, action),
                    "{role:?} global {action:?} anywhere"
                );
            }
        }
        assert_eq!(checked, 6 * 11 * 4 * 2);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert_eq!(Role::parse("root").unwrap_err().code, "role-invalid");
    }
}
