# A static website served by nginx.
# Put the site in public/ (or change the path below); add an nginx.conf to change the
# server's settings.
FROM nginx:stable-alpine

COPY ./public/ /usr/share/nginx/html/

EXPOSE 80
