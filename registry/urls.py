from django.urls import path

from .dns import views as dns
from .domains import views as domains
from .organisations import views as accounts

app_name = "registry"

urlpatterns = [
    path("register/", accounts.register, name="register"),
    path("register/done/", accounts.register_done, name="register-done"),
    path("register/code/", accounts.register_code, name="register-code"),
    path("register/confirm-email/<str:token>/", accounts.confirm_email, name="confirm-email"),
    path("regions/widget/", accounts.region_widget, name="region-widget"),
    path("account/password/", accounts.change_password, name="change-password"),
    path("units/", accounts.unit_list, name="unit-list"),
    path("units/<uuid:public_id>/", accounts.unit_detail, name="unit-detail"),
    path("domains/apply/", domains.domain_apply, name="domain-apply"),
    path("domains/mine/", domains.my_domains, name="my-domains"),
    path("domains/search/", domains.domain_search, name="domain-search"),
    path("domains/search/export/", domains.domain_export, name="domain-export"),
    path("domains/delete/", domains.domain_delete, name="domain-delete"),
    path("domains/review/office/", domains.office_queue, name="domain-office-queue"),
    path("domains/review/conac/", domains.conac_queue, name="domain-conac-queue"),
    path("domains/review/decide/", domains.review_decide, name="domain-review-decide"),
    path("domains/<uuid:public_id>/", domains.domain_detail, name="domain-detail"),
    path("domains/<uuid:public_id>/resubmit/", domains.domain_resubmit, name="domain-resubmit"),
    path("domains/<uuid:public_id>/dns/", dns.dns_records, name="dns-records"),
    path("domains/<uuid:public_id>/dns/www/<uuid:change_id>/", dns.dns_www_prompt, name="dns-www-prompt"),
    path("domains/<uuid:public_id>/dns/<uuid:record_id>/modify/", dns.dns_record_modify, name="dns-record-modify"),
    path("domains/<uuid:public_id>/dns/<uuid:record_id>/delete/", dns.dns_record_delete, name="dns-record-delete"),
    path("dns/review/", dns.dns_review, name="dns-review"),
    path("dns/review/decide/", dns.dns_review_decide, name="dns-review-decide"),
]
