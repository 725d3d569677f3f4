"""Drives a running server through the Python client generated from openapi.yaml:
register -> verify (token from the emailed link) -> sign in -> profile -> suggestions ->
connection request -> accept, for a mentee, a nearby peer and a mentor; then a circle:
start -> find -> join -> accept -> post -> reply -> read the thread.

    drive.py CLIENT_DIR BASE_URL MAIL_DIR

CLIENT_DIR holds the generated `alongside_client` package; MAIL_DIR is the folder where the
SMTP sink (tests/support/smtp_sink.py) writes each message it receives as JSON.
"""

import json
import re
import sys
import time
import uuid
from http import HTTPStatus
from pathlib import Path

client_dir, base_url, mail_dir = sys.argv[1:4]
sys.path.insert(0, client_dir)

from alongside_client import AuthenticatedClient, Client  # noqa: E402
from alongside_client.api.auth import login, register, verify_email  # noqa: E402
from alongside_client.api.circles import (  # noqa: E402
    accept_member,
    circle_directory,
    create_circle,
    create_post,
    get_post,
    join_circle,
    reply_to_post,
)
from alongside_client.api.connections import accept, create, suggestions  # noqa: E402
from alongside_client.api.profiles import put_profile  # noqa: E402
from alongside_client.models import (  # noqa: E402
    Admission,
    CirclePage,
    CircleView,
    CreateCircle,
    CreatePost,
    JoinRequest,
    PostKind,
    PostView,
    ReplyRequest,
    ThreadView,
    ConnectionKind,
    ConnectionView,
    CreateConnection,
    LocationInput,
    LoginRequest,
    MentoringInput,
    Profile,
    ProfileInput,
    ProfileInputLanguagesItem,
    ProfileInputMeetingModesItem,
    ProfileInputPopulationsItem,
    ProfileInputProfession,
    ProfileInputSettingsItem,
    ProfileInputTimezone,
    RegisterRequest,
    RegisterResponse,
    Seeking,
    Suggestions,
    SuggestionsKind,
    TokenPair,
    TokenRequest,
    VerifyEmailResponse,
)

PASSWORD = "a long contract password"
RUN = uuid.uuid4().hex[:8]


def expect(response, status: HTTPStatus, model: type):
    """The response has `status` and the client parsed its body as `model`."""
    if response.status_code != status or not isinstance(response.parsed, model):
        sys.exit(
            f"contract: expected {status.value} {model.__name__}, got {response.status_code.value} "
            f"{type(response.parsed).__name__}: {response.content[:500]!r}"
        )
    return response.parsed


def verification_token(email: str) -> str:
    """The token of the verification link emailed to `email` (waits for delivery)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in sorted(Path(mail_dir).glob("*.json")):
            message = json.loads(path.read_text(encoding="utf-8"))
            if email.lower() not in (r.lower() for r in message["rcpt_tos"]):
                continue
            found = re.search(r"/verify-email\?token=([A-Za-z0-9_-]+)", message["data"])
            if found:
                return found.group(1)
        time.sleep(0.1)
    sys.exit(f"contract: no verification email reached {email}")


def practitioner(name: str) -> tuple[AuthenticatedClient, str, uuid.UUID]:
    """Registers, verifies and signs in; returns a client with the access token."""
    email = f"{name.lower()}-{RUN}@example.org"
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    registered = expect(
        register.sync_detailed(
            client=public,
            body=RegisterRequest(email=email, password=PASSWORD, display_name=f"{name} Contract"),
        ),
        HTTPStatus.CREATED,
        RegisterResponse,
    )
    assert registered.email == email and registered.email_verified is False
    assert isinstance(registered.user_id, uuid.UUID)

    verified = expect(
        verify_email.sync_detailed(client=public, body=TokenRequest(token=verification_token(email))),
        HTTPStatus.OK,
        VerifyEmailResponse,
    )
    assert verified.email_verified is True

    tokens = expect(
        login.sync_detailed(client=public, body=LoginRequest(email=email, password=PASSWORD)),
        HTTPStatus.OK,
        TokenPair,
    )
    assert tokens.token_type == "Bearer" and tokens.expires_in > 0
    client = AuthenticatedClient(
        base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True
    )
    return client, email, registered.user_id


def profile(name: str, latitude: float, longitude: float, years: int, seeking: Seeking,
            mentoring: MentoringInput) -> ProfileInput:
    return ProfileInput(
        display_name=f"{name} Contract",
        profession=ProfileInputProfession.OCCUPATIONAL_THERAPY,
        populations=[ProfileInputPopulationsItem.OLDER_ADULTS, ProfileInputPopulationsItem.NEUROLOGY],
        settings=[ProfileInputSettingsItem.COMMUNITY, ProfileInputSettingsItem.HOME_VISITS],
        location=LocationInput(latitude=latitude, longitude=longitude),
        years_experience=years,
        languages=[ProfileInputLanguagesItem.EN, ProfileInputLanguagesItem.NO],
        interests=["Falls prevention", "driving assessment"],
        bio="Community OT covering the Orana region.",
        timezone=ProfileInputTimezone.AUSTRALIA_SYDNEY,
        meeting_modes=[ProfileInputMeetingModesItem.VIRTUAL, ProfileInputMeetingModesItem.IN_PERSON],
        max_travel_km=150,
        works_alone=True,
        seeking=seeking,
        mentoring=mentoring,
    )


def save(client: AuthenticatedClient, body: ProfileInput) -> Profile:
    saved = expect(put_profile.sync_detailed(client=client, body=body), HTTPStatus.OK, Profile)
    assert saved.display_name == body.display_name
    assert saved.timezone == "Australia/Sydney"
    assert sorted(saved.languages) == ["en", "no"], saved.languages
    return saved


def suggested(client: AuthenticatedClient, kind: SuggestionsKind) -> list[uuid.UUID]:
    page = expect(
        suggestions.sync_detailed(client=client, kind=kind, limit=10), HTTPStatus.OK, Suggestions
    )
    for item in page.items:
        assert 0.0 < item.score <= 1.0 and item.reasons, item
    return [item.profile.user_id for item in page.items]


def ask_and_accept(requester: AuthenticatedClient, requester_email: str,
                   recipient: AuthenticatedClient, recipient_id: uuid.UUID,
                   kind: ConnectionKind) -> None:
    request = expect(
        create.sync_detailed(
            client=requester,
            body=CreateConnection(recipient_id=recipient_id, kind=kind, message="Hello from Dubbo"),
        ),
        HTTPStatus.CREATED,
        ConnectionView,
    )
    assert request.status == "pending" and request.kind == kind.value, request
    assert request.recipient.user_id == recipient_id
    accepted = expect(
        accept.sync_detailed(id=request.id, client=recipient), HTTPStatus.OK, ConnectionView
    )
    assert accepted.id == request.id and accepted.status == "accepted", accepted
    assert accepted.contact_email == requester_email, accepted.contact_email


def circle(facilitator: AuthenticatedClient, joiner: AuthenticatedClient,
           joiner_id: uuid.UUID) -> None:
    """A facilitated circle: started, found, joined, the request accepted, a case discussed."""
    started = expect(
        create_circle.sync_detailed(
            client=facilitator,
            body=CreateCircle(domain=f"Home modifications {RUN}", cap=6,
                              admission=Admission.APPROVAL, facilitate=True),
        ),
        HTTPStatus.CREATED,
        CircleView,
    )
    assert started.circle.my_place == "facilitator" and started.circle.members == 1, started
    found = expect(
        circle_directory.sync_detailed(client=joiner, q=RUN), HTTPStatus.OK, CirclePage
    )
    assert [c.id for c in found.items] == [started.circle.id], found
    assert found.items[0].distance_km is not None and found.items[0].distance_km % 10 == 0
    asked = expect(
        join_circle.sync_detailed(id=started.circle.id, client=joiner, body=JoinRequest(note="Hello")),
        HTTPStatus.OK,
        CircleView,
    )
    assert asked.circle.my_place == "pending" and asked.members == [], asked
    admitted = expect(
        accept_member.sync_detailed(id=started.circle.id, user_id=joiner_id, client=facilitator),
        HTTPStatus.OK,
        CircleView,
    )
    assert [m.profile.user_id for m in admitted.members][-1] == joiner_id, admitted
    case = expect(
        create_post.sync_detailed(
            id=started.circle.id,
            client=facilitator,
            body=CreatePost(kind=PostKind.CASE, title="Two steps at the entrance",
                            body="An older adult living alone.", questions=["What first?"]),
        ),
        HTTPStatus.CREATED,
        PostView,
    )
    expect(
        reply_to_post.sync_detailed(id=started.circle.id, post_id=case.id, client=joiner,
                                    body=ReplyRequest(body="Transfers first.")),
        HTTPStatus.CREATED,
        PostView,
    )
    thread = expect(
        get_post.sync_detailed(id=started.circle.id, post_id=case.id, client=joiner),
        HTTPStatus.OK,
        ThreadView,
    )
    assert thread.post.questions == ["What first?"] and thread.post.replies == 1, thread
    assert thread.replies[0].body == "Transfers first.", thread


def main() -> None:
    mentee, mentee_email, _ = practitioner("Mia")
    peer, _, peer_id = practitioner("Pat")
    mentor, _, mentor_id = practitioner("Max")

    save(mentee, profile("Mia", -32.2569, 148.6011, 2, Seeking(peers=True, mentor=True),
                         MentoringInput(offering=False, capacity=0)))
    save(peer, profile("Pat", -32.2430, 148.6150, 6, Seeking(peers=True, mentor=False),
                       MentoringInput(offering=False, capacity=0)))
    save(mentor, profile("Max", -33.2839, 149.1007, 14, Seeking(peers=True, mentor=False),
                         MentoringInput(offering=True, capacity=2)))

    peers = suggested(mentee, SuggestionsKind.PEER)
    assert peer_id in peers, f"the nearby peer is not suggested: {peers}"
    mentors = suggested(mentee, SuggestionsKind.MENTOR)
    assert mentors and mentors[0] == mentor_id, f"the mentor is not suggested first: {mentors}"

    ask_and_accept(mentee, mentee_email, peer, peer_id, ConnectionKind.PEER)
    ask_and_accept(mentee, mentee_email, mentor, mentor_id, ConnectionKind.MENTORSHIP)
    mentee_id = save(mentee, profile("Mia", -32.2569, 148.6011, 2, Seeking(peers=True, mentor=True),
                                     MentoringInput(offering=False, capacity=0))).user_id
    circle(mentor, mentee, mentee_id)
    print(
        "contract: the generated Python client registered, verified and signed in three "
        "practitioners, saved their profiles, found a peer and a mentor, had both requests "
        "accepted, and carried a circle from start to a case study with a reply"
    )


if __name__ == "__main__":
    main()
