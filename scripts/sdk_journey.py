#!/usr/bin/env python3
"""One short journey through a client generated from the served OpenAPI document
(openapi-python-client, by scripts/sdk-check.sh): the admin logs in, creates and activates an
organization, creates and publishes a program; a new entrepreneur registers, logs in, creates a
project and applies with it to the program; the application is submitted.

    sdk_journey.py BASE_URL CLIENT_PARENT_DIR ADMIN_EMAIL ADMIN_PASSWORD

Commands pass an empty `CommandRequest` body: the generated code cannot serialise an omitted
optional body (openapi-python-client 0.29.1). Only the generated client talks to the server: every body is one of its models and every answer
is parsed by it, so a document that does not describe what the server does fails here. Exits
non-zero on the first unexpected answer.
"""

import datetime
import sys
import uuid

base_url, client_dir, admin_email, admin_password = sys.argv[1:5]
sys.path.insert(0, client_dir)

# The generated package (scripts/sdk-check.sh names it `icosistem_client`).
from icosistem_client import AuthenticatedClient, Client  # noqa: E402
from icosistem_client.api.applications import create_application, submit_application  # noqa: E402
from icosistem_client.api.auth import login, register  # noqa: E402
from icosistem_client.api.organizations import activate_organization, create_organization  # noqa: E402
from icosistem_client.api.programs import create_program, publish_program  # noqa: E402
from icosistem_client.api.projects import create_project  # noqa: E402
from icosistem_client.models import (  # noqa: E402
    ApplicationDto,
    CommandRequest,
    CreateApplicationRequest,
    CreateOrganizationRequest,
    CreateOrganizationRequestOrganizationType,
    CreateProgramRequest,
    CreateProgramRequestProgramType,
    CreateProjectRequest,
    CreateProjectRequestProjectType,
    LoginRequest,
    OrganizationDto,
    ProgramDto,
    ProjectDto,
    RegisterRequest,
    RegisterRequestRole,
    TokenResponse,
    UserDto,
)


def expect(step, response, status, model):
    """The answer of `step` has `status` and parses as `model`."""
    if response.status_code != status or not isinstance(response.parsed, model):
        print(f"FAIL {step}: {response.status_code} {response.content[:500]!r}", file=sys.stderr)
        sys.exit(1)
    print(f"ok   {step}: {status}")
    return response.parsed


def signed_in(email, password):
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    tokens = expect(
        f"login {email}",
        login.sync_detailed(client=anonymous, body=LoginRequest(email=email, password=password)),
        200,
        TokenResponse,
    )
    return AuthenticatedClient(base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True)


run = uuid.uuid4().hex[:8]
now = datetime.datetime.now(datetime.timezone.utc)
admin = signed_in(admin_email, admin_password)

org = expect(
    "create organization",
    create_organization.sync_detailed(
        client=admin,
        body=CreateOrganizationRequest(
            name=f"SDK Incubator {run}",
            organization_type=CreateOrganizationRequestOrganizationType.INCUBATOR,
            email=f"sdk-{run}@example.org",
            website="https://sdk.example.org",
            tax_id=f"SDK-{run}",
        ),
    ),
    201,
    OrganizationDto,
)
expect("activate organization", activate_organization.sync_detailed(org.id, client=admin, body=CommandRequest()), 200, OrganizationDto)

start = (now + datetime.timedelta(days=45)).date()
program = expect(
    "create program",
    create_program.sync_detailed(
        client=admin,
        body=CreateProgramRequest(
            organization_id=org.id,
            name=f"SDK Cohort {run}",
            program_type=CreateProgramRequestProgramType.ACCELERATION,
            application_opens_at=now,
            application_deadline=now + datetime.timedelta(days=30),
            start_date=start,
            end_date=start + datetime.timedelta(weeks=12),
            max_participants=10,
        ),
    ),
    201,
    ProgramDto,
)
program = expect("publish program", publish_program.sync_detailed(program.id, client=admin, body=CommandRequest()), 200, ProgramDto)

founder_email = f"sdk-founder-{run}@example.org"
founder_password = "a generated client's passphrase"
expect(
    "register entrepreneur",
    register.sync_detailed(
        client=Client(base_url=base_url, raise_on_unexpected_status=True),
        body=RegisterRequest(
            email=founder_email,
            password=founder_password,
            first_name="Sdk",
            last_name="Founder",
            role=RegisterRequestRole.ENTREPRENEUR,
        ),
    ),
    201,
    UserDto,
)
founder = signed_in(founder_email, founder_password)

project = expect(
    "create project",
    create_project.sync_detailed(
        client=founder,
        body=CreateProjectRequest(
            name=f"SDK Project {run}",
            description="A project created through the generated client.",
            project_type=CreateProjectRequestProjectType.STARTUP,
        ),
    ),
    201,
    ProjectDto,
)
application = expect(
    "create application",
    create_application.sync_detailed(
        client=founder,
        body=CreateApplicationRequest(program_id=program.id, project_id=project.id),
    ),
    201,
    ApplicationDto,
)
submitted = expect(
    "submit application",
    submit_application.sync_detailed(application.id, client=founder, body=CommandRequest()),
    200,
    ApplicationDto,
)
if submitted.status != "submitted":
    print(f"FAIL the submitted application is {submitted.status!r}", file=sys.stderr)
    sys.exit(1)
print(f"SDK journey passed: application {submitted.id} is {submitted.status}")
