from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("billing/unpaid/", views.unpaid_charges, name="unpaid-charges"),
    path("billing/charges/<uuid:public_id>/change/", views.charge_change, name="charge-change"),
    path("billing/charges/<uuid:public_id>/refund/", views.charge_refund, name="charge-refund"),
    path("billing/refunds/", views.refund_list, name="refund-list"),
    path("billing/units/<uuid:public_id>/fees/", views.unit_charges, name="unit-charges"),
    path("billing/receipts/<uuid:public_id>/", views.marking_receipt, name="marking-receipt"),
    path("billing/remittances/", views.remittance_list, name="remittance-list"),
    path("billing/remittances/confirm/", views.remittance_confirm_list, name="remittance-confirm-list"),
    path("billing/remittances/<uuid:public_id>/confirm/", views.remittance_confirm, name="remittance-confirm"),
    path("billing/renew/", views.renew, name="renew"),
    path("billing/reconciliation/", views.reconciliation, name="reconciliation"),
    path("billing/reconciliation/export/", views.reconciliation_export, name="reconciliation-export"),
    path("billing/reconciliation/<str:code>/", views.reconciliation_office, name="reconciliation-office"),
]
