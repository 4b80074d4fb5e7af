//! The embedded migrations: they build the whole schema on an empty database, every entity's
//! table has every column its mapping binds, every enum check lists exactly the core's values,
//! and applying them again changes nothing.

use std::collections::BTreeSet;

use icosistem_core::model::value::Currency;
use icosistem_core::model::{
    AccountToken, AccountTokenPurpose, Application, ApplicationStatus, AuditEvent, Availability, CalendarFeed,
    Document, DocumentAccess, DocumentParentKind, DocumentType, DocumentVersion, Enrollment, EnrollmentStatus,
    FundingStage, JobMark, Meeting, MeetingParticipant, MemberRole, Mentorship, Milestone, MilestoneStatus,
    Notification, Organization, OrganizationMember, OrganizationStatus, OrganizationType, OutboxMessage, Priority,
    Profile, ProfileData, Program, ProgramFormat, ProgramStatus, ProgramType, Project, ProjectStage, ProjectStatus,
    ProjectType, RefreshToken, Review, Role, Session, Task, TaskDependency, User, UserStatus, WebhookEndpoint,
};
use icosistem_core::model::{
    Block, Conversation, ConversationContextType, ConversationKind, ConversationParticipant, Message,
};
use icosistem_store_postgres::testing::TestStore;
use icosistem_store_postgres::{MIGRATOR, PgEntity};

/// `(table, columns)` of every entity's mapping: what the schema must provide.
fn mapped_tables() -> Vec<(&'static str, &'static [&'static str])> {
    macro_rules! tables {
        ($($entity:ty),+ $(,)?) => {
            vec![$((<$entity as PgEntity>::TABLE, <$entity as PgEntity>::COLUMNS)),+]
        };
    }
    tables![
        User,
        Profile,
        AccountToken,
        RefreshToken,
        Organization,
        OrganizationMember,
        Program,
        Project,
        Milestone,
        Application,
        Review,
        Enrollment,
        Notification,
        OutboxMessage,
        AuditEvent,
        Mentorship,
        Availability,
        Session,
        Meeting,
        MeetingParticipant,
        Task,
        TaskDependency,
        JobMark,
        WebhookEndpoint,
        CalendarFeed,
        Document,
        DocumentVersion,
        Conversation,
        ConversationParticipant,
        Message,
        Block,
    ]
}

async fn public_tables(store: &TestStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT table_name::TEXT FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .fetch_all(store.store().pool())
    .await
    .expect("list tables")
}

async fn applied_migrations(store: &TestStore) -> Vec<(i64, Vec<u8>)> {
    sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(store.store().pool())
        .await
        .expect("read _sqlx_migrations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_an_empty_database_creates_every_table() {
    let Some(store) = TestStore::empty().await else {
        return;
    };
    assert_eq!(
        public_tables(&store).await,
        Vec::<String>::new(),
        "a new database starts empty"
    );

    store.store().migrate().await.expect("migrate an empty database");

    let tables = public_tables(&store).await;
    assert!(tables.iter().any(|t| t == "_sqlx_migrations"), "{tables:?}");
    for (table, columns) in mapped_tables() {
        assert!(
            tables.iter().any(|t| t == table),
            "table {table} is missing from {tables:?}"
        );
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(table)
        .fetch_all(store.store().pool())
        .await
        .expect("list columns");
        for column in columns {
            assert!(
                present.iter().any(|c| c == column),
                "{table}.{column} is bound by the mapping but missing from the schema"
            );
        }
    }
    let applied = applied_migrations(&store).await;
    assert_eq!(
        applied.len(),
        MIGRATOR.iter().count(),
        "every embedded migration is recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_applied_twice_are_a_no_op() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let before = applied_migrations(&store).await;
    let tables = public_tables(&store).await;
    assert_eq!(before.len(), MIGRATOR.iter().count());

    store.store().migrate().await.expect("second migrate is Ok");

    assert_eq!(
        applied_migrations(&store).await,
        before,
        "no migration row added or changed"
    );
    assert_eq!(public_tables(&store).await, tables, "no table added or removed");
}

/// The snake_case names of a closed vocabulary.
fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> BTreeSet<String> {
    all.iter().map(|v| name(*v).to_owned()).collect()
}

/// The quoted literals of a constraint definition as PostgreSQL prints it
/// (`CHECK ((status = ANY (ARRAY['draft'::text, …])))`): every other `'`-separated piece.
fn literals(definition: &str) -> BTreeSet<String> {
    definition.split('\'').skip(1).step_by(2).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_checks_list_exactly_the_cores_values() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let currencies: BTreeSet<String> = Currency::ALL.iter().map(|c| c.code().to_owned()).collect();
    let profile_roles: BTreeSet<String> = Role::ALL
        .iter()
        .filter(|r| ProfileData::default_for(**r).is_some())
        .map(|r| r.as_str().to_owned())
        .collect();
    // `(table, column, values)`: the column's own check constraint, `<table>_<column>_check`,
    // lists exactly `values` (a core enum's names with `enum_check!`).
    macro_rules! enum_check {
        ($table:literal, $column:literal, $enum:ident) => {
            ($table, $column, names($enum::ALL, $enum::as_str))
        };
    }
    let expected: Vec<(&str, &str, BTreeSet<String>)> = vec![
        enum_check!("users", "role", Role),
        enum_check!("users", "status", UserStatus),
        ("profiles", "role", profile_roles),
        enum_check!("account_tokens", "purpose", AccountTokenPurpose),
        enum_check!("organizations", "organization_type", OrganizationType),
        enum_check!("organizations", "status", OrganizationStatus),
        enum_check!("organization_members", "role", MemberRole),
        enum_check!("programs", "program_type", ProgramType),
        enum_check!("programs", "status", ProgramStatus),
        enum_check!("programs", "format", ProgramFormat),
        enum_check!("programs", "target_stages", ProjectStage),
        enum_check!("projects", "project_type", ProjectType),
        enum_check!("projects", "priority", Priority),
        enum_check!("projects", "stage", ProjectStage),
        enum_check!("projects", "status", ProjectStatus),
        enum_check!("projects", "funding_stage", FundingStage),
        ("projects", "funding_target_currency", currencies.clone()),
        ("projects", "funding_raised_currency", currencies),
        enum_check!("milestones", "priority", Priority),
        enum_check!("milestones", "status", MilestoneStatus),
        enum_check!("applications", "status", ApplicationStatus),
        enum_check!("enrollments", "status", EnrollmentStatus),
        enum_check!("documents", "parent_type", DocumentParentKind),
        enum_check!("documents", "document_type", DocumentType),
        enum_check!("documents", "access", DocumentAccess),
        enum_check!("conversations", "kind", ConversationKind),
        enum_check!("conversations", "context_type", ConversationContextType),
    ];
    for (table, column, values) in expected {
        let definition: Option<String> = sqlx::query_scalar(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1 AND contype = 'c'",
        )
        .bind(format!("{table}_{column}_check"))
        .fetch_optional(store.store().pool())
        .await
        .expect("read the constraint");
        let definition = definition.unwrap_or_else(|| panic!("{table}.{column} has no check of its own"));
        assert_eq!(literals(&definition), values, "{table}.{column}: {definition}");
    }
}
