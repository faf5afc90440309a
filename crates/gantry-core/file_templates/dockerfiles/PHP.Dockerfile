# A PHP application served by Apache, with its Composer dependencies.
# Add the PHP extensions your application needs to `docker-php-ext-install`.
FROM composer:2 AS vendor
WORKDIR /app
COPY composer.json composer.lock ./
RUN composer install --no-dev --no-interaction --prefer-dist --no-scripts

FROM php:8.3-apache
RUN docker-php-ext-install pdo_mysql opcache

COPY --from=vendor /app/vendor/ /var/www/html/vendor/
COPY . /var/www/html/

EXPOSE 80
