from django.urls import path

from channels_app.webchat import views

urlpatterns = [
    path("widget.js", views.widget_js, name="widget-js"),
    path("widget/demo/", views.demo, name="widget-demo"),
    path("webchat/<str:key>/config", views.config, name="widget-config"),
    path("webchat/<str:key>/uploads", views.upload, name="widget-upload"),
]
