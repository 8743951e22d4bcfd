from django.urls import path

from copywriter.seo import views

app_name = "seo"

urlpatterns = [
    path("w/<int:ws>/seo/documents/<int:document_id>/", views.document_panel,
         name="document_panel"),
    path("w/<int:ws>/seo/documents/<int:document_id>/suggest/", views.document_suggest,
         name="document_suggest"),
    path("w/<int:ws>/seo/documents/<int:document_id>/keywords/", views.document_keywords_save,
         name="document_keywords"),
    path("w/<int:ws>/seo/documents/<int:document_id>/enrich/", views.document_enrich,
         name="document_enrich"),
    path("w/<int:ws>/seo/generations/<int:generation_id>/variants/<int:index>/",
         views.variant_panel, name="variant_panel"),
    path("w/<int:ws>/seo/generations/<int:generation_id>/variants/<int:index>/suggest/",
         views.variant_suggest, name="variant_suggest"),
    path("w/<int:ws>/seo/generations/<int:generation_id>/variants/<int:index>/enrich/",
         views.variant_enrich, name="variant_enrich"),
    path("w/<int:ws>/seo/enrichments/<int:enrichment_id>/", views.enrichment, name="enrichment"),
    path("w/<int:ws>/seo/enrichments/<int:enrichment_id>/accept/", views.enrichment_accept,
         name="accept"),
    path("w/<int:ws>/seo/enrichments/<int:enrichment_id>/reject/", views.enrichment_reject,
         name="reject"),
    path("w/<int:ws>/seo/keyword-lists/", views.keyword_lists, name="lists"),
    path("w/<int:ws>/seo/keyword-lists/<int:list_id>/delete/", views.keyword_list_delete,
         name="list_delete"),
]
