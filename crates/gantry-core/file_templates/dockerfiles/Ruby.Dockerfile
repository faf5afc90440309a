# A Ruby application (Rack, Sinatra, Rails…). Change the command to the one that starts it.
FROM ruby:3.3

ENV BUNDLE_WITHOUT="development:test" \
    BUNDLE_DEPLOYMENT=1

WORKDIR /app

# Install the gems first, so that changing the code does not install them again.
COPY Gemfile Gemfile.lock ./
RUN bundle install

COPY . .

RUN useradd --system --uid 10001 app
USER app
EXPOSE 9292
CMD ["bundle", "exec", "rackup", "--host", "0.0.0.0"]
