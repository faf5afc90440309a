# A Node.js application. Its package.json should have a `start` script; change the port to
# the one your application listens on.
FROM node:22

ENV NODE_ENV=production
WORKDIR /usr/src/app

# Install the dependencies first, so that changing the code does not install them again.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

COPY . .

USER node
EXPOSE 3000
CMD ["npm", "start"]
