# A static website served by the Apache HTTP Server.
# Put the site in public/ (or change the path below).
FROM httpd:2.4

COPY ./public/ /usr/local/apache2/htdocs/

EXPOSE 80
