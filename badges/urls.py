from django.urls import path

from . import views

app_name = "badges"

urlpatterns = [
    path("website/", views.website_apply, name="website-apply"),
    path("badge/apply/", views.badge_apply, name="badge-apply"),
    path("applications/new/<slug:family>/", views.application_new, name="application-new"),
    path("applications/review/", views.review_queue, name="review-queue"),
    path("applications/review/decide/", views.review_decide, name="review-decide"),
    path("applications/<uuid:public_id>/", views.application_detail, name="application-detail"),
    path("applications/<uuid:public_id>/resubmit/", views.application_resubmit, name="application-resubmit"),
    path("applications/<uuid:public_id>/paper/", views.paper_decide, name="paper-decide"),
    path("applications/<uuid:public_id>/<slug:document>.pdf", views.application_document, name="application-document"),
    path("badge/manage/", views.badge_manage, name="badge-manage"),
    path("badge/<str:code>/certificate.pdf", views.badge_certificate, name="badge-certificate"),
    path("badges/<str:code>/", views.badge_detail, name="badge-detail"),
    path("badges/<str:code>/revoke/", views.badge_revoke, name="badge-revoke"),
    path("redpage/", views.redpage_edit, name="redpage-edit"),
    path("redpage/<uuid:public_id>/", views.redpage_public, name="redpage-public"),
]
