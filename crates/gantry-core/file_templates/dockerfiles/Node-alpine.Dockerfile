# A Node.js application on Alpine Linux. Its package.json should have a `start` script;
# change the port to the one your application listens on.
FROM node:22-alpine

ENV NODE_ENV=production
WORKDIR /usr/src/app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev

COPY . .

USER node
EXPOSE 3000
CMD ["npm", "start"]
