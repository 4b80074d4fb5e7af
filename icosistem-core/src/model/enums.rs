//! Closed vocabularies of docs/domain.md §2–§3 (roles and the kinds of things).

use crate::workflow::snake_enum;

snake_enum! {
    /// The one platform role of a user.
    pub enum Role {
        /// Platform operator.
        Admin => "admin",
        /// Founder: owns projects, applies to programs, asks for mentoring.
        Entrepreneur => "entrepreneur",
        /// Mentor.
        Ally => "ally",
        /// Investor, corporate, government: follows public projects.
        Client => "client",
    }
}

impl Role {
    /// Roles a person may choose when registering themselves (admins are made by admins).
    pub fn self_registrable(self) -> bool {
        self != Role::Admin
    }
}

snake_enum! {
    /// Kind of organization.
    pub enum OrganizationType {
        /// Incubator.
        Incubator => "incubator",
        /// Accelerator.
        Accelerator => "accelerator",
        /// University.
        University => "university",
        /// Research center.
        ResearchCenter => "research_center",
        /// Corporation.
        Corporation => "corporation",
        /// Government body.
        Government => "government",
        /// NGO.
        Ngo => "ngo",
        /// Foundation.
        Foundation => "foundation",
        /// Venture capital fund.
        VentureCapital => "venture_capital",
        /// Angel network.
        AngelNetwork => "angel_network",
        /// Startup hub.
        StartupHub => "startup_hub",
        /// Coworking space.
        Coworking => "coworking",
        /// Consultancy.
        Consultancy => "consultancy",
        /// Anything else.
        Other => "other",
    }
}

snake_enum! {
    /// Organization status, set by admins.
    pub enum OrganizationStatus {
        /// Created, not yet reviewed.
        Pending => "pending",
        /// Active.
        Active => "active",
        /// Verified by the platform.
        Verified => "verified",
        /// Partner of the platform.
        Partner => "partner",
        /// Suspended.
        Suspended => "suspended",
        /// No longer active.
        Inactive => "inactive",
    }
}

snake_enum! {
    /// Kind of program.
    pub enum ProgramType {
        /// Incubation.
        Incubation => "incubation",
        /// Acceleration.
        Acceleration => "acceleration",
        /// Mentorship.
        Mentorship => "mentorship",
        /// Training.
        Training => "training",
        /// Bootcamp.
        Bootcamp => "bootcamp",
        /// Competition.
        Competition => "competition",
        /// Funding.
        Funding => "funding",
        /// Pre-incubation.
        PreIncubation => "pre_incubation",
        /// Scale-up.
        ScaleUp => "scale_up",
        /// Social impact.
        SocialImpact => "social_impact",
        /// Anything else.
        Other => "other",
    }
}

snake_enum! {
    /// How a program is delivered.
    pub enum ProgramFormat {
        /// In person.
        Presential => "presential",
        /// Online.
        Virtual => "virtual",
        /// Both.
        Hybrid => "hybrid",
    }
}

snake_enum! {
    /// Kind of project.
    pub enum ProjectType {
        /// Startup.
        Startup => "startup",
        /// Social venture.
        SocialVenture => "social_venture",
        /// Tech startup.
        TechStartup => "tech_startup",
        /// Service business.
        ServiceBusiness => "service_business",
        /// Product business.
        ProductBusiness => "product_business",
        /// Marketplace.
        Marketplace => "marketplace",
        /// SaaS.
        Saas => "saas",
        /// E-commerce.
        Ecommerce => "ecommerce",
        /// Fintech.
        Fintech => "fintech",
        /// Healthtech.
        Healthtech => "healthtech",
        /// Edtech.
        Edtech => "edtech",
        /// Agtech.
        Agtech => "agtech",
        /// Greentech.
        Greentech => "greentech",
        /// Nonprofit.
        Nonprofit => "nonprofit",
        /// Franchise.
        Franchise => "franchise",
    }
}

snake_enum! {
    /// Priority of a project or milestone (the seed's ProjectPriority).
    pub enum Priority {
        /// Low.
        Low => "low",
        /// Medium (default).
        Medium => "medium",
        /// High.
        High => "high",
        /// Critical.
        Critical => "critical",
    }
}

// The macro derives no `Default`; medium is docs/domain.md's default priority.
#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::Medium
    }
}

snake_enum! {
    /// Funding stage of a project.
    pub enum FundingStage {
        /// Self-funded.
        Bootstrapped => "bootstrapped",
        /// Pre-seed.
        PreSeed => "pre_seed",
        /// Seed.
        Seed => "seed",
        /// Series A.
        SeriesA => "series_a",
        /// Series B.
        SeriesB => "series_b",
        /// Series C.
        SeriesC => "series_c",
        /// Growth.
        Growth => "growth",
        /// Ready for an IPO.
        IpoReady => "ipo_ready",
        /// Acquired.
        Acquired => "acquired",
    }
}

snake_enum! {
    /// An entrepreneur's experience.
    pub enum EntrepreneurStage {
        /// Wants to start.
        Aspiring => "aspiring",
        /// First venture, early.
        Early => "early",
        /// Running an established business.
        Established => "established",
        /// Has founded several.
        Serial => "serial",
    }
}

snake_enum! {
    /// Kind of client (stakeholder).
    pub enum ClientType {
        /// Investor.
        Investor => "investor",
        /// Corporation.
        Corporation => "corporation",
        /// Government.
        Government => "government",
        /// NGO.
        Ngo => "ngo",
        /// University.
        University => "university",
        /// Foundation.
        Foundation => "foundation",
        /// Individual.
        Individual => "individual",
    }
}
