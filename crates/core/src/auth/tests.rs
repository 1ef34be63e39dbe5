//! Tests of `auth`.

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
        (Role::Admin, EnterData, "SB"),
        (Role::Admin, ManageProgrammes, "SB"),
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
        (Role::Officer, EnterData, "SB"),
        (Role::Officer, ManageProgrammes, "SB"),
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
        (Role::TeamLeader, EnterData, ""),
        (Role::TeamLeader, ManageProgrammes, "SB"),
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
        (Role::Member, EnterData, ""),
        (Role::Member, ManageProgrammes, ""),
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
        (Role::AgencyStaff, EnterData, ""),
        (Role::AgencyStaff, ManageProgrammes, ""),
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
        (Role::Viewer, EnterData, ""),
        (Role::Viewer, ManageProgrammes, ""),
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
            assert_eq!(authorize(role, &scoped, action, Target::Anywhere), anywhere, "{role:?} {action:?} anywhere");
            assert_eq!(
                authorize(role, &Scope::All, action, Target::Anywhere),
                expected_global(role, action),
                "{role:?} global {action:?} anywhere"
            );
        }
    }
    assert_eq!(checked, 6 * Action::ALL.len() * 4 * 2);
}

#[test]
fn roles_round_trip() {
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()).unwrap(), r);
    }
    assert_eq!(Role::parse("root").unwrap_err().code, "role-invalid");
}

fn actor(role: Role, scope: Scope, agency_id: Option<i64>) -> Actor {
    Actor { user_id: 7, role, scope, agency_id }
}

#[test]
fn units_are_not_found_out_of_sight_and_forbidden_in_it() {
    let (commune, targets) = paths();
    let viewer = actor(Role::Viewer, Scope::Subtree(commune.clone()), None);
    let below = &targets[1].1;
    let elsewhere = &targets[3].1;
    assert!(unit::<may::ViewUnit>(&viewer, below).is_ok());
    assert_eq!(unit::<may::ViewPersonalData>(&viewer, below).unwrap_err(), Denied::Forbidden);
    assert_eq!(unit::<may::ViewPersonalData>(&viewer, elsewhere).unwrap_err(), Denied::NotFound);
    let member = actor(Role::Member, Scope::Subtree(commune.clone()), None);
    let g = household::<may::ViewPersonalData>(&member, HouseholdPlace { id: 3, path: below.clone() }).unwrap();
    assert_eq!((g.user_id(), g.on().id, g.action()), (7, 3, Action::ViewPersonalData));
    assert_eq!(area::<may::ViewPersonalData>(&member, None).unwrap().on(), &Area(Some(commune.clone())));
    let national = actor(Role::Admin, Scope::All, None);
    assert_eq!(area::<may::ViewPersonalData>(&national, None).unwrap().on(), &Area(None));
    // A team's members are people: not for the viewer, who sees the team's size.
    assert_eq!(team_members(&viewer, TeamPlace { id: 1, path: below.clone() }).unwrap_err(), Denied::Forbidden);
    assert!(team_members(&member, TeamPlace { id: 1, path: below.clone() }).is_ok());
}

#[test]
fn feedback_items_by_scope_and_agency() {
    let (commune, targets) = paths();
    let below = targets[1].1.clone();
    let item = |path: Option<UnitPath>, agency_id| FeedbackPlace { id: 1, unit_id: None, path, agency_id };
    let staff = actor(Role::AgencyStaff, Scope::Subtree(commune.clone()), Some(4));
    assert!(feedback_item(&staff, item(Some(below.clone()), Some(4))).is_ok());
    assert!(feedback_item(&staff, item(None, Some(4))).is_ok(), "their agency's items with no unit");
    assert_eq!(feedback_item(&staff, item(Some(below.clone()), Some(5))).unwrap_err(), Denied::NotFound);
    assert_eq!(feedback_item(&staff, item(Some(targets[3].1.clone()), Some(4))).unwrap_err(), Denied::NotFound);
    let no_agency = actor(Role::AgencyStaff, Scope::All, None);
    assert!(feedback_item(&no_agency, item(None, None)).is_err());
    let officer = actor(Role::Officer, Scope::Subtree(commune.clone()), None);
    assert!(feedback_item(&officer, item(Some(below.clone()), Some(5))).is_ok());
    assert!(feedback_item(&officer, item(None, None)).is_err(), "items with no unit are the province's");
    let member = actor(Role::Member, Scope::Subtree(commune.clone()), None);
    assert!(feedback_item(&member, item(Some(below), None)).is_err());
    assert_eq!(feedback_inbox(&member).unwrap_err(), Denied::Forbidden);
    assert!(submit_for_citizen(&member).is_ok());
    assert!(submit_for_citizen(&actor(Role::Viewer, Scope::All, None)).is_err());
    let inbox = feedback_inbox(&staff).unwrap().unwrap();
    assert_eq!((inbox.unitless, inbox.agency_id, inbox.any_agency), (true, Some(4), false));
    assert_eq!(feedback_inbox(&actor(Role::AgencyStaff, Scope::All, None)).unwrap(), None);
}

#[test]
fn recordings() {
    let (commune, targets) = paths();
    let officer = recording(&actor(Role::Officer, Scope::Subtree(commune.clone()), None)).unwrap();
    assert!(!officer.members_only() && officer.may_record(&targets[1].1) && !officer.may_record(&targets[3].1));
    let member = recording(&actor(Role::Member, Scope::Subtree(commune.clone()), None)).unwrap();
    assert!(member.members_only());
    assert!(recording(&actor(Role::Viewer, Scope::All, None)).is_err());
    assert!(recording(&actor(Role::Admin, Scope::All, None)).is_err(), "administrators do not knock on doors");
}

#[test]
fn accounts_are_managed_within_their_managers_reach() {
    let (commune, targets) = paths();
    let below = targets[1].1.clone();
    let commune_admin = actor(Role::Admin, Scope::Subtree(commune.clone()), None);
    let reach = |role, scope| AccountReach { role, scope };
    assert!(manage_account(&commune_admin, Some(1), &reach(Role::Member, Scope::Subtree(below.clone()))).is_ok());
    assert!(manage_account(&commune_admin, None, &reach(Role::Officer, Scope::Subtree(commune.clone()))).is_ok());
    // Agency staff handle their agency's items with no unit, beyond any commune: only
    // administrators of the whole tree manage them.
    assert_eq!(
        manage_account(&commune_admin, Some(1), &reach(Role::AgencyStaff, Scope::Subtree(below.clone()))).unwrap_err(),
        Denied::Forbidden
    );
    let national = actor(Role::Admin, Scope::All, None);
    assert!(manage_account(&national, Some(1), &reach(Role::AgencyStaff, Scope::Subtree(below.clone()))).is_ok());
    assert_eq!(manage_account(&commune_admin, Some(1), &reach(Role::Admin, Scope::All)).unwrap_err(), Denied::NotFound);
    assert_eq!(
        manage_account(&commune_admin, Some(1), &reach(Role::Member, Scope::Subtree(targets[3].1.clone())))
            .unwrap_err(),
        Denied::NotFound
    );
    assert_eq!(
        manage_account(&national, Some(7), &reach(Role::Admin, Scope::All)).unwrap_err(),
        Denied::Forbidden,
        "not their own"
    );
    let officer = actor(Role::Officer, Scope::Subtree(commune.clone()), None);
    assert!(manage_account(&officer, Some(1), &reach(Role::Member, Scope::Subtree(below))).is_err());
    assert!(account_needs_unit(Role::Officer) && !account_needs_unit(Role::Admin));
}
