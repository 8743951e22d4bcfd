from django.urls import path

from copywriter.generation import views

app_name = "generation"

urlpatterns = [
    path("w/<int:ws>/generations/", views.history, name="history"),
    path("w/<int:ws>/generations/<int:generation_id>/", views.detail, name="detail"),
    path("w/<int:ws>/generations/<int:generation_id>/retry/", views.retry, name="retry"),
    path("w/<int:ws>/generations/<int:generation_id>/cancel/", views.cancel, name="cancel"),
    path("w/<int:ws>/generations/<int:generation_id>/search-ads.csv", views.export_search_ads,
         name="export_search_ads"),
    path("w/<int:ws>/generations/<int:generation_id>/variants/<int:index>/rate/", views.rate,
         name="rate"),
    path("w/<int:ws>/generations/<int:generation_id>/variants/<int:index>/save/",
         views.save_to_document, name="save"),
]

# A template's page is the generate form, so generation serves it; it keeps its catalog URL and
# name (catalog:detail): copywriter/urls.py lists these in catalog's namespace.
template_urlpatterns = [
    path("w/<int:ws>/templates/<int:template_id>/", views.generate, name="detail"),
]
