# A Java application built with Maven into a runnable jar, shipped on a JRE.
# Change the jar's name to your artifact's.
FROM maven:3-eclipse-temurin-21 AS build
WORKDIR /src

# Resolve the dependencies first, so that changing the code does not download them again.
COPY pom.xml .
RUN mvn --batch-mode dependency:go-offline

COPY src ./src
RUN mvn --batch-mode package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/target/*.jar /app/app.jar

RUN useradd --system --uid 10001 app
USER app
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
