from django.urls import path

from copywriter.voices import views

# No namespace of its own: copywriter/urls.py lists these in generation's, so the pages keep the
# names they had when brand voices lived in generation (generation:voices, generation:voice...).
urlpatterns = [
    path("w/<int:ws>/voices/", views.voices, name="voices"),
    path("w/<int:ws>/voices/<int:voice_id>/", views.voice, name="voice"),
    path("w/<int:ws>/voices/<int:voice_id>/cancel/", views.voice_cancel, name="voice_cancel"),
    path("w/<int:ws>/voices/<int:voice_id>/delete/", views.voice_delete, name="voice_delete"),
]
