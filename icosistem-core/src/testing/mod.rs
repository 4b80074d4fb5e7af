//! The store conformance suite (feature `testing`): one set of test bodies that every store crate
//! runs, so the memory store and PostgreSQL answer the same way for the same situation.
//!
//! - [`cases`]: the test bodies, `async fn case<S: Store + Clone>(store: S)`, each on a fresh
//!   store. They go through the public use cases of [`Ecosystem`](crate::Ecosystem) and, for the
//!   raw contracts of the ports, through [`Repo`](crate::ports::Repo) directly.
//! - [`fixtures`]: the shared world the cases build on: an ecosystem over the store with a
//!   [`ManualClock`](crate::ports::ManualClock) fixed at [`fixtures::t0`], a recording notifier,
//!   cheap password hashing, and helpers that create people, organizations, open programs,
//!   projects and applications at every stage of selection, and the mentoring side (allies with
//!   schedules, mentorships, sessions, meetings, tasks).
//! - [`store_conformance_tests!`](crate::store_conformance_tests): the macro a store crate calls
//!   once; it expands to one `#[tokio::test]` per case (multi-thread runtime, 4 workers, so the
//!   concurrency cases really race), and [`CASES`] lists the case names.
//!
//! ```ignore
//! // icosistem-store-xyz/tests/conformance.rs
//! async fn setup() -> Option<XyzStore> {
//!     // `None` = no backend available: the case prints nothing more and passes.
//!     Some(XyzStore::new())
//! }
//! icosistem_core::store_conformance_tests!(setup);
//! ```
//!
//! The store crate needs only `icosistem-core` (feature `testing`) and `tokio` as
//! dev-dependencies; the macro reaches tokio through this module's re-export.
//!
//! Rules the cases follow, which a new case must follow too: never hold two units of work at
//! once in one task (the memory store serializes them, so the second `begin` would wait
//! forever), never sleep (move the clock), and assert one exact outcome.

pub mod cases;
pub mod fixtures;

/// The runtime the generated tests run on (re-exported so store crates need no direct path to
/// it in the macro expansion).
#[doc(hidden)]
pub use tokio;

/// The one list of case names, handed to a callback macro (so [`CASES`] and the generated
/// tests can never drift apart).
#[doc(hidden)]
#[macro_export]
macro_rules! __icosistem_conformance_list {
    ($($head:tt)*) => {
        $crate::__icosistem_conformance_emit! {
            $($head)* ;
            // Store contracts through the repositories.
            repo_get_of_unknown_ids_is_none,
            use_cases_answer_not_found_for_unknown_ids,
            repo_insert_of_an_existing_id_conflicts,
            repo_update_bumps_the_version_and_refuses_a_stale_one,
            repo_update_and_delete_of_missing_rows_are_not_found,
            not_found_names_the_bare_uuid,
            repo_unique_slug_is_enforced_on_insert_and_update,
            repo_soft_delete_hides_the_row_and_frees_its_keys,
            repo_delete_removes_memberships,
            a_user_filter_selects_an_organizations_staff,
            count_and_list_agree_with_entity_matches,
            pagination_visits_every_row_once_newest_first,
            pagination_is_stable_under_concurrent_inserts,
            pagination_oldest_first_visits_every_row_once,
            a_list_by_ids_pages_like_any_other_list,
            page_request_parse_reports_bad_cursor_and_limit,
            dropped_transaction_leaves_no_trace,
            committed_transaction_is_visible_to_the_next_one,
            failed_use_case_writes_nothing,
            // The unit of work itself.
            refused_writes_leave_the_unit_of_work_usable,
            keys_released_in_a_unit_of_work_are_free_in_it,
            reads_see_the_units_own_writes_and_read_only_units_end_cleanly,
            // Uniqueness, versions and soft delete through the use cases.
            duplicate_email_conflicts_case_insensitively,
            concurrent_registrations_with_one_email_admit_one,
            same_names_get_numbered_slugs,
            concurrent_same_name_organizations_get_distinct_slugs,
            duplicate_tax_id_conflicts,
            one_live_application_per_program_and_project,
            concurrent_duplicate_applications_admit_one,
            duplicate_reviewer_assignment_conflicts,
            concurrent_reviewer_assignments_admit_one,
            duplicate_membership_conflicts,
            member_removal_keeps_the_last_owner,
            stale_versions_conflict_through_use_cases,
            soft_deleted_project_is_hidden_and_frees_its_slug,
            soft_deleted_program_is_hidden_and_frees_its_slug,
            soft_deleted_organization_is_hidden_and_frees_its_slug,
            // Selection: capacity, waitlist, reviews, visibility.
            concurrent_accepts_never_exceed_capacity,
            promote_and_accept_race_for_the_last_seat,
            concurrent_withdrawals_and_accepts_keep_capacity,
            withdrawal_promotes_the_best_waitlisted_application,
            drop_out_promotes_the_best_waitlisted_application,
            no_promotion_after_the_program_started,
            withdrawal_after_drop_out_frees_no_second_seat,
            reviewer_with_a_conflict_of_interest_is_refused,
            blind_review_hides_the_applicant_from_reviewers_and_staff,
            a_command_answers_the_view_its_caller_reads_next,
            three_round_selection_walks_to_acceptance,
            round_decisions_need_their_quorum,
            an_application_never_skips_a_round,
            a_reviewer_reviews_once_per_round,
            rounds_cannot_change_once_an_application_entered_them,
            a_blind_round_hides_the_applicant,
            open_review_shows_the_applicant_to_staff,
            decisions_need_min_qualified_reviews,
            entrepreneurs_cannot_decide_or_review,
            only_assigned_reviewers_review,
            applications_are_invisible_to_strangers,
            staff_of_another_organization_cannot_act,
            application_commands_hide_what_the_caller_cannot_see,
            submission_reports_every_eligibility_failure,
            no_decision_on_a_cancelled_program,
            // Analytics: the same figures on every store.
            analytics_figures_are_the_same_on_every_store,
            // Lists at scale: visibility evaluated by the store, bounded statements per page.
            project_lists_page_the_visibility_through_programs,
            a_page_of_applications_costs_a_fixed_number_of_statements,
            review_overdue_rounds_examine_only_what_is_due,
            // Audit and notifications.
            account_changes_are_audited,
            organization_changes_are_audited,
            program_lifecycle_is_audited,
            project_and_milestone_changes_are_audited,
            selection_changes_are_audited,
            audit_events_carry_request_metadata,
            notifications_are_written_in_app_and_to_the_outbox,
            // Accounts.
            email_verification_token_is_single_use_and_expires,
            concurrent_verifications_of_one_token_admit_one,
            unknown_email_and_wrong_password_answer_the_same,
            lockout_after_five_failures_lasts_fifteen_minutes,
            concurrent_failed_logins_lock_exactly_once,
            admin_unlock_lifts_a_lockout,
            unverified_and_inactive_accounts_cannot_log_in,
            password_reset_flow,
            concurrent_reset_confirmations_admit_one,
            change_password_reports_every_failing_field,
            admin_role_change_bumps_the_security_stamp,
            refresh_tokens_rotate_on_every_use,
            reusing_a_rotated_refresh_token_revokes_the_family,
            refresh_tokens_of_an_older_security_stamp_are_refused,
            concurrent_refreshes_of_one_token_admit_one,
            // Projects and milestones.
            max_active_projects_is_enforced,
            concurrent_project_creation_respects_max_active_projects,
            project_status_commands_follow_the_graph,
            stage_graph_via_advance_stage,
            milestone_completion_recomputes_progress,
            overdue_milestones_follow_the_clock,
            project_list_shows_exactly_what_get_shows,
            // Programs.
            publish_refuses_a_past_deadline,
            start_needs_min_participants_and_start_date,
            complete_graduates_active_enrollments,
            // Outbox.
            outbox_delivers_each_message_once,
            outbox_retries_with_backoff_then_fails,
            outbox_permanent_failure_fails_at_once,
            outbox_retry_delays_carry_jitter,
            outbox_delivers_a_channel_with_bounded_concurrency,
            outbox_dead_letters_are_listed_and_requeued_by_admins,
            // Webhooks.
            webhook_events_reach_each_matching_endpoint_once,
            webhook_management_is_for_owners_and_admins,
            webhook_deliveries_are_signed_when_sent_and_rotation_overlaps,
            failing_webhooks_are_disabled_after_their_window,
            // Calendars.
            session_and_meeting_emails_carry_their_calendar_entry,
            calendar_feed_tokens_resolve_rotate_and_revoke,
            // Documents.
            documents_upload_version_download_and_soft_delete,
            document_access_follows_the_parent_and_the_level,
            blind_reviewers_never_receive_identity_bearing_documents,
            concurrent_uploads_never_exceed_max_documents_per_project,
            refused_uploads_leave_no_row_and_no_blob,
            orphan_blobs_are_swept_after_their_grace,
            // Messaging.
            a_direct_conversation_per_pair_is_unique_under_concurrent_opens,
            who_may_open_a_direct_conversation,
            context_conversations_seat_the_parties_of_their_context,
            unread_counts_are_exact_and_emails_are_digested,
            blocked_users_cannot_message_either_way,
            messages_are_edited_and_deleted_by_their_sender,
            messages_per_minute_are_limited_per_sender,
            a_page_of_conversations_costs_a_fixed_number_of_statements,
            // Validation.
            register_reports_every_bad_field,
            create_program_reports_every_bad_field,
            create_project_reports_every_bad_field,
            // Mentorships, suggestions and free slots.
            concurrent_accepts_never_exceed_max_mentees,
            one_open_mentorship_per_ally_and_entrepreneur,
            concurrent_duplicate_mentorship_requests_admit_one,
            mentorship_commands_follow_who_may_run_them,
            resume_and_accept_respect_the_allys_capacity,
            reviewer_who_mentors_the_applicant_is_refused,
            mentor_sees_the_mentees_project_only_while_active,
            suggest_allies_returns_the_best_five_above_the_threshold,
            // Whole-cohort mentor matching.
            cohort_matching_proposes_the_optimal_assignment_and_confirms_it,
            confirming_a_stale_cohort_proposal_is_refused,
            concurrent_cohort_confirms_create_each_mentorship_once,
            free_slots_keep_busy_time_and_the_buffer_free,
            // Sessions.
            concurrent_overlapping_bookings_admit_one,
            booking_across_a_dst_change_lands_on_the_right_instant,
            booking_needs_24_hours_notice_and_a_valid_duration,
            booking_must_lie_inside_the_allys_availability,
            booking_keeps_clear_of_the_entrepreneurs_other_sessions,
            booking_keeps_clear_of_meetings_of_either_party,
            booking_buffer_of_exactly_fifteen_minutes_is_allowed,
            max_sessions_per_day_is_enforced,
            booking_needs_an_active_mentorship,
            ending_a_mentorship_cancels_its_upcoming_sessions,
            session_runs_from_confirmation_to_completion,
            cancellation_inside_24_hours_is_late,
            reschedule_keeps_the_id_and_rechecks_the_rules,
            no_show_is_marked_24_hours_after_the_start,
            feedback_is_given_once_per_side_and_rates_the_ally,
            concurrent_reschedules_into_one_slot_admit_one,
            // Meetings.
            meeting_time_rules_are_reported_together,
            meeting_invitations_notify_and_answers_reach_the_organizer,
            duplicate_meeting_participant_conflicts,
            meeting_lifecycle_keeps_the_id,
            meetings_are_invisible_to_non_attendees,
            // Tasks.
            subtasks_roll_progress_up_to_the_parent,
            completing_a_task_waits_for_its_dependencies,
            dependency_cycles_are_refused,
            concurrent_dependencies_never_close_a_cycle,
            // Jobs: each run twice at the same now.
            session_reminders_are_sent_once_per_lead_time,
            no_show_sweep_runs_once,
            feedback_reminders_are_sent_once,
            milestone_overdue_notices_are_sent_once,
            review_overdue_notices_are_sent_once,
            review_overdue_counts_from_the_start_of_review,
            application_deadline_notices_are_sent_once,
            unverified_accounts_are_deactivated_once,
            read_notifications_are_archived_once,
            a_job_round_stops_at_its_budget_and_the_next_continues,
            run_due_jobs_twice_at_the_same_now_sends_nothing_twice,
            a_tick_runs_the_due_jobs_and_delivers_the_outbox,
        }
    };
}

/// Expands a conformance case list for one purpose: `names` (a `&[&str]`), or
/// `tests $krate $setup, $tokio = "$tokio"` (one `#[tokio::test]` per case, named after it, that
/// runs `$krate::testing::cases::<case>` on the store `$setup` gives; `$tokio` is the name the
/// invoking file imported the runtime under). Every suite's case list goes through it: the
/// stores' here, the blob stores' in `icosistem-blob`.
#[doc(hidden)]
#[macro_export]
macro_rules! __icosistem_conformance_emit {
    (names ; $($case:ident),* $(,)?) => {
        &[$(stringify!($case)),*]
    };
    (tests $krate:tt $setup:path, $tokio:ident = $tokio_name:tt ; $($case:ident),* $(,)?) => {
        $(
            #[$tokio::test(crate = $tokio_name, flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                if let ::core::option::Option::Some(store) = $setup().await {
                    $krate::testing::cases::$case(store).await;
                }
            }
        )*
    };
}

/// Expands to the whole conformance suite: one `#[tokio::test(flavor = "multi_thread",
/// worker_threads = 4)]` per case of [`testing::cases`](crate::testing::cases), named after the
/// case. `setup` is a path to an `async fn() -> Option<S>` with `S: Store + Clone`, called once
/// per test for a fresh, empty store; `None` means "no backend available" and the test returns
/// without running the case (the store crate prints its own skip line).
///
/// Invoke it once, at the top level of an integration test file.
#[macro_export]
macro_rules! store_conformance_tests {
    ($setup:path) => {
        #[allow(unused_imports)]
        use $crate::testing::tokio as __icosistem_conformance_tokio;
        $crate::__icosistem_conformance_list!(
            tests $crate $setup, __icosistem_conformance_tokio = "__icosistem_conformance_tokio"
        );
    };
}

/// The names of every conformance case, in the order the macro emits them. A store crate may
/// assert the count it runs.
pub const CASES: &[&str] = crate::__icosistem_conformance_list!(names);
