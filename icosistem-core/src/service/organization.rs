//! Organizations and their members.

use crate::service::Expect;
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, authorize_seen, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{AtField, Email, Name, Slug, Url, optional_text};
use crate::model::{
    MemberRole, Organization, OrganizationId, OrganizationMember, OrganizationStatus, OrganizationType, UserId,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{ListFilter, MemberFilter, OrganizationFilter, Page, PageRequest, Repo, Store, Transaction};
use crate::ports::{Clock, Notifier};

/// Input of `create_organization`.
#[derive(Debug, Clone)]
pub struct CreateOrganization {
    /// Name (2–200).
    pub name: String,
    /// Kind.
    pub organization_type: OrganizationType,
    /// Listed publicly (default true).
    pub is_public: Option<bool>,
    /// Programs may take applications (default true).
    pub allow_applications: Option<bool>,
    /// Contact email.
    pub email: Option<String>,
    /// Web site (a missing scheme gets `https://`).
    pub website: Option<String>,
    /// Tax id (≥ 5 alphanumerics, unique).
    pub tax_id: Option<String>,
    /// Description (≤ 5000).
    pub description: Option<String>,
}

/// Input of `update_organization`; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UpdateOrganization {
    /// Name.
    pub name: Option<String>,
    /// Listed publicly.
    pub is_public: Option<bool>,
    /// Programs may take applications.
    pub allow_applications: Option<bool>,
    /// Contact email (`Some(None)` clears).
    pub email: Option<Option<String>>,
    /// Web site (`Some(None)` clears).
    pub website: Option<Option<String>>,
    /// Description (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// The version read.
    pub version: Option<u64>,
}

fn parse_tax_id(errors: &mut ValidationErrors, tax_id: Option<&str>) -> Option<String> {
    let tax_id = tax_id.map(str::trim).filter(|t| !t.is_empty())?;
    let alnum = tax_id.chars().filter(char::is_ascii_alphanumeric).count();
    if alnum < 5 || tax_id.chars().count() > 50 {
        errors.push(
            "tax_id",
            "must have at least 5 letters or digits and at most 50 characters",
        );
        return None;
    }
    Some(tax_id.to_owned())
}

impl<T: Transaction> Uow<T> {
    /// The first free slug `base`, `base-2`, `base-3` … among live rows of one kind.
    pub(crate) async fn free_slug<F: ListFilter>(&mut self, name: &str, filter: impl Fn(Slug) -> F) -> Result<Slug>
    where
        T: Repo<F::Entity>,
    {
        let base = Slug::derive(name);
        let mut candidate = base.clone();
        let mut n = 1;
        while self.count(&filter(candidate.clone())).await? > 0 {
            n += 1;
            candidate = base.with_suffix(n);
        }
        Ok(candidate)
    }

    /// The actor's role in `organization`, if any.
    pub(crate) async fn org_role(&mut self, organization: OrganizationId) -> Result<Option<MemberRole>> {
        let Some(user) = self.ctx.actor.user_id() else {
            return Ok(None);
        };
        Ok(self
            .first(&MemberFilter {
                organization_id: Some(organization),
                user_id: Some(user),
                ..Default::default()
            })
            .await?
            .map(|m| m.role))
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Creates an organization (admins, allies and clients). The creator becomes its owner.
    pub async fn create_organization(&self, ctx: &Context, input: CreateOrganization) -> Result<Organization> {
        authorize(&ctx.actor, Action::CreateOrganization, &Facts::none())?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse(&input.name).at("name"));
        let email = input
            .email
            .as_deref()
            .and_then(|e| errors.check(Email::parse(e).at("email")));
        let website = input
            .website
            .as_deref()
            .and_then(|w| errors.check(Url::parse(w).at("website")));
        let tax_id = parse_tax_id(&mut errors, input.tax_id.as_deref());
        let description = errors
            .check(optional_text("description", input.description.as_deref(), 5000))
            .flatten();
        errors.into_result()?;
        let name = name.expect("validated");
        let mut uow = self.uow(ctx).await?;
        let slug = uow
            .free_slug(name.as_str(), |slug| OrganizationFilter {
                slug: Some(slug),
                ..Default::default()
            })
            .await?;
        let org = Organization {
            id: uow.new_id(),
            name,
            slug,
            organization_type: input.organization_type,
            status: OrganizationStatus::Pending,
            is_public: input.is_public.unwrap_or(true),
            allow_applications: input.allow_applications.unwrap_or(true),
            email,
            website,
            tax_id,
            description,
            meta: uow.meta(),
            deletion: Default::default(),
        };
        uow.insert(&org).await?;
        if let Some(owner) = ctx.actor.user_id() {
            let member = OrganizationMember {
                id: uow.new_id(),
                organization_id: org.id,
                user_id: owner,
                role: MemberRole::Owner,
                meta: uow.meta(),
            };
            uow.insert(&member).await?;
        }
        uow.audit(
            "organization.create",
            "organization",
            org.id,
            Some(org.id),
            None,
            Some(json!({ "status": org.status })),
        )
        .await?;
        uow.commit().await?;
        Ok(org)
    }

    /// An organization visible to the caller (public ones, or where they are a member).
    pub async fn get_organization(&self, ctx: &Context, id: OrganizationId) -> Result<Organization> {
        let mut uow = self.uow(ctx).await?;
        let org = uow.load(id).await?;
        let facts = Facts {
            org_role: uow.org_role(id).await?,
            is_public: org.is_public,
            ..Facts::none()
        };
        authorize_seen(
            &ctx.actor,
            Action::ViewOrganization,
            Action::ViewOrganization,
            &facts,
            "organization",
            id,
        )?;
        Ok(org)
    }

    /// Lists organizations. Non-admins see public organizations only.
    pub async fn list_organizations(
        &self,
        ctx: &Context,
        mut filter: OrganizationFilter,
        page: PageRequest,
    ) -> Result<Page<Organization>> {
        if !ctx.actor.is_admin() {
            filter.is_public = Some(true);
            filter.include_deleted = false;
        }
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }

    /// Edits an organization (admins and its owners).
    pub async fn update_organization(
        &self,
        ctx: &Context,
        id: OrganizationId,
        input: UpdateOrganization,
    ) -> Result<Organization> {
        let mut uow = self.uow(ctx).await?;
        let mut org = self.load_org_for(&mut uow, id, Action::EditOrganization).await?;
        check_version(&org, input.version)?;
        let mut errors = ValidationErrors::new();
        if let Some(name) = input.name.as_deref()
            && let Some(name) = errors.check(Name::parse(name).at("name"))
        {
            org.name = name;
        }
        if let Some(email) = input.email {
            org.email = email.as_deref().and_then(|e| errors.check(Email::parse(e).at("email")));
        }
        if let Some(website) = input.website {
            org.website = website
                .as_deref()
                .and_then(|w| errors.check(Url::parse(w).at("website")));
        }
        if let Some(description) = input.description {
            org.description = errors
                .check(optional_text("description", description.as_deref(), 5000))
                .flatten();
        }
        errors.into_result()?;
        if let Some(v) = input.is_public {
            org.is_public = v;
        }
        if let Some(v) = input.allow_applications {
            org.allow_applications = v;
        }
        let org = uow.update(org).await?;
        uow.audit("organization.update", "organization", org.id, Some(org.id), None, None)
            .await?;
        uow.commit().await?;
        Ok(org)
    }

    /// Sets an organization's status (admins only: `activate`, `suspend`, verify …).
    pub async fn set_organization_status(
        &self,
        ctx: &Context,
        id: OrganizationId,
        status: OrganizationStatus,
    ) -> Result<Organization> {
        authorize(&ctx.actor, Action::ManageUsers, &Facts::none()).map_err(|_| crate::error::Forbidden {
            action: "organization.set_status",
            resource: "organization",
        })?;
        let mut uow = self.uow(ctx).await?;
        let mut org = uow.load_for_update(id).await?;
        let from = org.status;
        if from == status {
            return Err(Error::invalid_transition(
                "organization",
                from.as_str(),
                status.as_str(),
            ));
        }
        org.status = status;
        let org = uow.update(org).await?;
        uow.audit_transition(
            "organization.status",
            "organization",
            org.id,
            Some(org.id),
            from.as_str(),
            status.as_str(),
        )
        .await?;
        let owners = uow
            .all(&MemberFilter {
                organization_id: Some(org.id),
                role: Some(MemberRole::Owner),
                ..Default::default()
            })
            .await?;
        for owner in owners {
            uow.notify_id(
                owner.user_id,
                Notice::new(
                    "organization_status",
                    format!("{} is now {}", org.name, status),
                    format!("The platform set the status of {} to {}.", org.name, status),
                    json!({ "organization_id": org.id, "status": status }),
                ),
            )
            .await?;
        }
        uow.commit().await?;
        Ok(org)
    }

    /// Soft-deletes an organization (admins and its owners).
    pub async fn delete_organization(
        &self,
        ctx: &Context,
        id: OrganizationId,
        version: impl Into<Expect>,
    ) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let mut org = self.load_org_for(&mut uow, id, Action::EditOrganization).await?;
        check_version(&org, version)?;
        org.deletion.deleted_at = Some(uow.now);
        org.deletion.deleted_by = ctx.actor.user_id();
        uow.update(org).await?;
        uow.audit("organization.delete", "organization", id, Some(id), None, None)
            .await?;
        uow.commit().await
    }

    /// Adds a member (admins and owners). A user is a member once per organization.
    pub async fn add_member(
        &self,
        ctx: &Context,
        organization: OrganizationId,
        user: UserId,
        role: MemberRole,
    ) -> Result<OrganizationMember> {
        let mut uow = self.uow(ctx).await?;
        let org = self.load_org_for(&mut uow, organization, Action::ManageMembers).await?;
        let member_user = uow
            .get(user)
            .await?
            .ok_or_else(|| Error::invalid("user_id", "no such user"))?;
        let member = OrganizationMember {
            id: uow.new_id(),
            organization_id: organization,
            user_id: user,
            role,
            meta: uow.meta(),
        };
        uow.insert(&member).await?;
        uow.audit(
            "organization.member_added",
            "organization_member",
            member.id,
            Some(organization),
            None,
            Some(json!({ "user_id": user, "role": role })),
        )
        .await?;
        uow.notify(
            &member_user,
            Notice::new(
                "organization_member_added",
                format!("You joined {}", org.name),
                format!("You are now {} of {}.", role, org.name),
                json!({ "organization_id": organization, "role": role }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(member)
    }

    /// Removes a member (admins and owners). The last owner cannot be removed.
    pub async fn remove_member(&self, ctx: &Context, organization: OrganizationId, user: UserId) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        self.load_org_for(&mut uow, organization, Action::ManageMembers).await?;
        let member = uow
            .first(&MemberFilter {
                organization_id: Some(organization),
                user_id: Some(user),
                ..Default::default()
            })
            .await?
            .ok_or_else(|| Error::not_found("organization_member", user))?;
        if member.role == MemberRole::Owner {
            let owners = uow
                .count(&MemberFilter {
                    organization_id: Some(organization),
                    role: Some(MemberRole::Owner),
                    ..Default::default()
                })
                .await?;
            if owners <= 1 {
                return Err(Error::invalid("user_id", "an organization keeps at least one owner"));
            }
        }
        uow.delete(member.id).await?;
        uow.audit(
            "organization.member_removed",
            "organization_member",
            member.id,
            Some(organization),
            Some(json!({ "user_id": user, "role": member.role })),
            None,
        )
        .await?;
        uow.commit().await
    }

    /// Lists an organization's members (visible to whoever may see the organization).
    pub async fn list_members(
        &self,
        ctx: &Context,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<OrganizationMember>> {
        self.get_organization(ctx, organization).await?;
        let mut uow = self.uow(ctx).await?;
        uow.list(
            &MemberFilter {
                organization_id: Some(organization),
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// Loads an organization for `action`, locked; invisible ones are `NotFound`.
    async fn load_org_for(&self, uow: &mut Uow<S::Tx>, id: OrganizationId, action: Action) -> Result<Organization> {
        let org = uow.load_for_update(id).await?;
        let facts = Facts {
            org_role: uow.org_role(id).await?,
            is_public: org.is_public,
            ..Facts::none()
        };
        authorize_seen(
            &uow.ctx.actor,
            Action::ViewOrganization,
            action,
            &facts,
            "organization",
            id,
        )?;
        Ok(org)
    }
}
