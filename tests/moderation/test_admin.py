"""Administrators edit rules in the admin (audited, with a reason); blocks and the audit trail
are read-only; moderators get none of these pages."""

import pytest

from moderation.audit import audit_record
from moderation.models import AuditRecord, PromptBlock, PromptRule
from moderation.prompts import prompt_screen

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/moderation/promptrule/add/"


def _form(**fields):
    data = {
        "kind": "word",
        "text": "glorpnik",
        "category": "other",
        "action": "block",
        "context": "",
        "exceptions": "",
        "is_active": "on",
        "note": "",
        "change_reason": "Spotted in the logs",
    }
    data.update(fields)
    return data


def test_an_admin_adds_changes_and_deletes_a_rule(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/moderation/promptrule/").status_code == 200
    assert client.get(ADD_URL).status_code == 200

    response = client.post(ADD_URL, _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = PromptRule.objects.get(text="glorpnik")
    assert rule.created_by == admin_user
    assert prompt_screen("a glorpnik").rule_id == rule.pk
    created = AuditRecord.objects.get(action="prompt_rule.create", object_id=str(rule.pk))
    assert (created.actor, created.reason) == (admin_user, "Spotted in the logs")

    change_url = f"/admin/moderation/promptrule/{rule.pk}/change/"
    response = client.post(change_url, _form(action="review", change_reason="Too strict"))
    assert response.status_code == 302
    assert prompt_screen("a glorpnik").action == "review"
    changed = AuditRecord.objects.get(action="prompt_rule.change", object_id=str(rule.pk))
    assert changed.changes == {"before": {"action": "block"}, "after": {"action": "review"}}
    assert (changed.actor, changed.reason) == (admin_user, "Too strict")

    response = client.post(f"/admin/moderation/promptrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PromptRule.objects.filter(pk=rule.pk).exists()
    assert prompt_screen("a glorpnik") is None
    assert AuditRecord.objects.get(action="prompt_rule.delete", object_id=str(rule.pk)).actor == (
        admin_user
    )


def test_a_change_needs_a_reason_and_a_valid_expression(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD_URL, _form(change_reason=""))
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    response = client.post(ADD_URL, _form(kind="pattern", text="(unclosed"))
    assert response.status_code == 200
    assert "text" in response.context["adminform"].form.errors
    assert not PromptRule.objects.filter(text__in=["glorpnik", "(unclosed"]).exists()


def test_bulk_deactivation_is_audited(client, admin_user):
    client.force_login(admin_user)
    rules = list(PromptRule.objects.filter(category="public_figure")[:2])
    response = client.post(
        "/admin/moderation/promptrule/",
        {"action": "deactivate", "_selected_action": [rule.pk for rule in rules]},
    )
    assert response.status_code == 302
    assert not PromptRule.objects.filter(pk__in=[r.pk for r in rules], is_active=True).exists()
    assert AuditRecord.objects.filter(action="prompt_rule.change", actor=admin_user).count() == 2


def test_the_test_a_prompt_page(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/moderation/promptrule/test/")
    assert page.status_code == 200
    response = client.post("/admin/moderation/promptrule/test/", {"prompt": "n.u.d.e selfie"})
    assert response.status_code == 200
    assert response.context["verdict"].category == "sexual"
    assert "nude selfie" in response.content.decode()


def test_blocks_and_the_audit_trail_are_read_only(client, admin_user, owner):
    block = PromptBlock.objects.create(
        user=owner, prompt="x", category="sexual", action="blocked", rule_id=1
    )
    record = audit_record(actor=admin_user, action="test.thing", object_type="x.y", object_id=1)
    client.force_login(admin_user)
    for model, obj in (("promptblock", block), ("auditrecord", record)):
        assert client.get(f"/admin/moderation/{model}/").status_code == 200
        assert client.get(f"/admin/moderation/{model}/add/").status_code == 403
        assert client.get(f"/admin/moderation/{model}/{obj.pk}/delete/").status_code == 403
        page = client.get(f"/admin/moderation/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and not page.context["has_change_permission"]
    client.post(f"/admin/moderation/auditrecord/{record.pk}/change/", {"reason": "edited"})
    record.refresh_from_db()
    assert record.reason == ""


def test_moderators_get_no_admin_page_of_moderation(client, moderator):
    client.force_login(moderator)
    for path in (
        "/admin/moderation/promptrule/",
        "/admin/moderation/promptrule/test/",
        "/admin/moderation/promptblock/",
        "/admin/moderation/auditrecord/",
    ):
        assert client.get(path).status_code in (302, 403), path
